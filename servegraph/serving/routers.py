"""Routers: pick the model route of an event (ModelRouter, VotingEnsemble, SplitRouter).

A router step holds ``routes`` (key -> compiled :class:`~servegraph.serving.base.Route`)
set by the engine when the graph is compiled. ``GET /v2/models/`` lists the
routes; ``/v2/models/{key}[/versions/{v}]/...`` goes to that route.

    fn.set_topology("router", VotingEnsemble(vote_type="regression", weights={"a": 2}))
"""

from __future__ import annotations

import asyncio
import bisect
import random
import zlib
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from typing import Any

from servegraph.errors import BadRequestError, GraphError, NotFoundError
from servegraph.serving.base import Route
from servegraph.serving.event import Event
from servegraph.serving.v2_protocol import (
    OPERATIONS,
    ModelPath,
    make_response,
    parse_path,
    parse_request,
)


class BaseModelRouter:
    """Routes an event to the route named in its path (template for routers).

    Subclasses override ``select_default(event)`` (no model named in the path) or
    ``do_event`` for whole-request behaviour.
    """

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Route] | None = None,
        protocol: str | None = None,
        url_prefix: str | None = None,
        health_prefix: str | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.context = context
        self.name = name or "router"
        self.routes: dict[str, Route] = routes or {}
        self.protocol = protocol or "v2"
        self.url_prefix = url_prefix
        self.health_prefix = health_prefix
        self.input_path = input_path
        self.result_path = result_path
        self._params = kwargs

    def post_init(self, mode: str = "sync") -> None:
        """Called once the routes are set."""

    def get_param(self, key: str, default: Any = None) -> Any:
        """A class argument, else a serving-spec parameter."""
        if key in self._params:
            return self._params[key]
        return self.context.get_param(key, default) if self.context is not None else default

    def target(self, path: str) -> ModelPath:
        """The parsed path; ``/v2/models/infer`` (an operation, no model) names no model."""
        parsed = parse_path(path)
        name = parsed.name
        if (
            name is not None
            and not parsed.operation
            and parsed.version is None
            and name in OPERATIONS
            and name not in self.routes
        ):
            return ModelPath(None, None, name)
        return parsed

    def do_event(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        """Dispatch the event to a route (or list the routes)."""
        parsed = parse_path(event.path)
        if parsed.version is None:
            route = self.routes.get(parsed.name)  # type: ignore[arg-type]
            if route is not None:
                return route.run(event)
        name, version, op = self.target(event.path)
        if name is None or name == self.name:
            if name is None and not op and event.method == "GET":
                event.body = {"models": list(self.routes)}
                return event
            return self.select_default(event).run(event)
        return self.find_route(name, version, op).run(event)

    async def do_event_async(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        """``do_event`` for routers with async routes (batching models): awaits the route."""
        if type(self).do_event is not BaseModelRouter.do_event:
            return self.do_event(event)  # a router with its own dispatch runs routes sync
        parsed = parse_path(event.path)
        route = self.routes.get(parsed.name) if parsed.version is None else None  # type: ignore[arg-type]
        if route is None:
            name, version, op = self.target(event.path)
            if name is None or name == self.name:
                if name is None and not op and event.method == "GET":
                    event.body = {"models": list(self.routes)}
                    return event
                route = self.select_default(event)
            else:
                route = self.find_route(name, version, op)
        return route.run(event) if route.arun is None else await route.arun(event)

    def find_route(self, name: str, version: str | None, op: str = "") -> Route:
        """The route for a model name and version; NotFoundError if there is none."""
        routes = self.routes
        if version:
            route = routes.get(f"{name}:{version}")
        else:
            route = routes.get(name)
            if route is None:
                versions = sorted(key for key in routes if key.startswith(name + ":"))
                route = routes[versions[-1]] if versions else None
        if route is None:
            label = f"{name}:{version}" if version else name
            raise NotFoundError(
                f"model {label!r} is not served by router {self.name!r}; "
                f"known models: {sorted(routes)}"
            )
        return route

    def select_default(self, event: Event) -> Route:
        """The route for an event whose path names no model (``body["model"]``, or the only one)."""
        body = event.body
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            return self.find_route(body["model"], None)
        if len(self.routes) == 1:
            return next(iter(self.routes.values()))
        raise NotFoundError(
            f"the path {event.path!r} names no model and router {self.name!r} has "
            f"{len(self.routes)} routes: {sorted(self.routes)}"
        )


class ModelRouter(BaseModelRouter):
    """Routes ``/v2/models/{name}/...`` to the model ``name`` (MLRun's ModelRouter)."""


class SplitRouter(BaseModelRouter):
    """Weighted split for canary / A-B: requests that name no model go to a route by weight.

    ``weights`` maps route keys to relative weights (routes not listed get 0).
    With ``key_field``, the choice is sticky per ``body[key_field]``; otherwise it is
    random (``seed`` makes it repeatable). ``counts`` holds how many requests each
    route got by split. A path naming a route still goes to that route.

    >>> r = SplitRouter(weights={"v1": 9, "v2": 1})
    """

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Route] | None = None,
        weights: dict[str, float] | None = None,
        key_field: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(context=context, name=name, routes=routes, **kwargs)
        if weights is not None and (
            not isinstance(weights, dict)
            or any(not isinstance(w, int | float) or w < 0 for w in weights.values())
        ):
            raise GraphError(
                f"The 'weights' parameter of SplitRouter {self.name!r} must map route keys "
                f"to non-negative numbers. Got {weights!r} instead."
            )
        self.weights = weights
        self.key_field = key_field
        self.seed = seed
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._keys: list[str] = []
        self._cumulative: list[float] = []

    def post_init(self, mode: str = "sync") -> None:
        """Precompute the cumulative weights of the routes."""
        weights = self.weights or dict.fromkeys(self.routes, 1.0)
        unknown = sorted(set(weights) - set(self.routes))
        if unknown:
            raise GraphError(
                f"SplitRouter {self.name!r} has weights for unknown routes {unknown}; "
                f"routes are {sorted(self.routes)}"
            )
        total = 0.0
        self._keys, self._cumulative = [], []
        for key, weight in weights.items():
            if weight > 0:
                total += weight
                self._keys.append(key)
                self._cumulative.append(total)
        if total <= 0:
            raise GraphError(f"SplitRouter {self.name!r} needs a route with a positive weight")

    def select_default(self, event: Event) -> Route:
        total = self._cumulative[-1]
        if self.key_field is not None:
            body = event.body
            if not isinstance(body, dict) or self.key_field not in body:
                raise BadRequestError(
                    f"SplitRouter {self.name!r} needs the field {self.key_field!r} in the body"
                )
            point = zlib.crc32(str(body[self.key_field]).encode()) / 2**32 * total
        else:
            point = self._random.random() * total
        key = self._keys[bisect.bisect_right(self._cumulative, point)]
        self.counts[key] += 1
        return self.routes[key]


def _member_outputs(model: Any, request: dict[str, Any]) -> Any:
    """Run one member's preprocess/validate/predict (used in a worker process)."""
    request = model.preprocess(request, "infer")
    model.validate(request, "infer")
    outputs = model.predict(request)
    return outputs.tolist() if hasattr(outputs, "tolist") else outputs


class VotingEnsemble(BaseModelRouter):
    """Infers through every member and votes (MLRun's VotingEnsemble).

    ``vote_type`` is ``"classification"`` (weighted majority per row) or
    ``"regression"`` (weighted mean per row); None infers it from the outputs.
    ``weights`` maps member keys to weights (default 1). ``executor_type``
    runs the members one after the other (``"array"``), in threads or in processes.
    The ensemble's own name (or a path naming no model) infers through all;
    ``/v2/models/{member}/infer`` reaches one member.
    """

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Route] | None = None,
        protocol: str | None = None,
        url_prefix: str | None = None,
        health_prefix: str | None = None,
        vote_type: str | None = None,
        executor_type: str | None = None,
        prediction_col_name: str | None = None,
        format_response_with_col_name_flag: bool = False,
        weights: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            context=context,
            name=name or "VotingEnsemble",
            routes=routes,
            protocol=protocol,
            url_prefix=url_prefix,
            health_prefix=health_prefix,
            **kwargs,
        )
        if vote_type not in (None, "classification", "regression"):
            raise GraphError(
                "The 'vote_type' parameter of VotingEnsemble must be 'classification', "
                f"'regression' or None. Got {vote_type!r} instead."
            )
        executor_type = executor_type or "array"
        if executor_type not in ("array", "thread", "process"):
            raise GraphError(
                "The 'executor_type' parameter of VotingEnsemble must be 'array', 'thread' "
                f"or 'process'. Got {executor_type!r} instead."
            )
        self.vote_type = vote_type
        self.executor_type = executor_type
        self.prediction_col_name = prediction_col_name or "prediction"
        self.format_response_with_col_name_flag = format_response_with_col_name_flag
        self.weights = weights
        self._executor: Executor | None = None

    def post_init(self, mode: str = "sync") -> None:
        """Check the weights against the members and start the executor."""
        unknown = sorted(set(self.weights or {}) - set(self.routes))
        if unknown:
            raise GraphError(
                f"VotingEnsemble {self.name!r} has weights for unknown members {unknown}; "
                f"members are {sorted(self.routes)}"
            )
        if self.executor_type == "thread":
            self._executor = ThreadPoolExecutor(max_workers=max(1, len(self.routes)))
        elif self.executor_type == "process":
            self._executor = ProcessPoolExecutor(
                max_workers=max(1, len(self.routes)), mp_context=get_context("spawn")
            )

    def close(self) -> None:
        """Shut the executor down."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def select_default(self, event: Event) -> Route:  # pragma: no cover - do_event handles it
        raise NotFoundError(f"VotingEnsemble {self.name!r} infers through all members")

    def do_event(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        name, version, op = self.target(event.path)
        if name is None or name == self.name:
            if name is None and not op and event.method == "GET":
                event.body = {"models": list(self.routes)}
                return event
            if not op and event.method == "GET":
                event.body = {"name": self.name, "version": "", "inputs": [], "outputs": []}
                return event
            if op in ("", "infer", "predict"):
                event.body = self._vote(event)
                return event
            raise NotFoundError(f"VotingEnsemble {self.name!r} has no operation {op!r}")
        return self.find_route(name, version, op).run(event)

    def _member_outputs(self, event: Event) -> list[Any]:
        members = list(self.routes.values())
        if self.executor_type == "process":
            assert self._executor is not None
            request = parse_request(event.body)
            futures = [self._executor.submit(_member_outputs, r.object, request) for r in members]
            return [f.result() for f in futures]

        def run(route: Route) -> Any:
            return route.run(_member_event(event)).body["outputs"]

        if self._executor is not None:
            return list(self._executor.map(run, members))
        return [run(route) for route in members]

    async def do_event_async(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        """``do_event`` when members batch (async routes): they infer concurrently."""
        name, version, op = self.target(event.path)
        voting = op in ("infer", "predict") or (not op and event.method != "GET")
        if (name is None or name == self.name) and voting:
            request = parse_request(event.body)

            async def run(route: Route) -> Any:
                member = _member_event(event)
                out = route.run(member) if route.arun is None else await route.arun(member)
                return out.body["outputs"]

            outputs = await asyncio.gather(*(run(route) for route in self.routes.values()))
            event.body = self._combine(request, list(outputs), event)
            return event
        if name is not None and name != self.name:
            route = self.find_route(name, version, op)
            return route.run(event) if route.arun is None else await route.arun(event)
        return self.do_event(event)

    def _vote(self, event: Event) -> dict[str, Any]:
        return self._combine(parse_request(event.body), self._member_outputs(event), event)

    def _combine(self, request: dict[str, Any], outputs: list[Any], event: Event) -> dict[str, Any]:
        weights = [float((self.weights or {}).get(key, 1.0)) for key in self.routes]
        vote_type = self.vote_type or _infer_vote_type(outputs)
        rows = list(zip(*outputs, strict=True)) if outputs else []
        if vote_type == "regression":
            total = sum(weights)
            result: list[Any] = [
                sum(w * float(v) for w, v in zip(weights, row, strict=True)) / total for row in rows
            ]
        else:
            result = [_weighted_majority(row, weights) for row in rows]
        body: Any = (
            {self.prediction_col_name: result}
            if self.format_response_with_col_name_flag
            else result
        )
        return make_response(request.get("id") or event.id, self.name, body)


def _member_event(event: Event) -> Event:
    """The event a member infers on: its own body dict, the path naming no model."""
    body = event.body
    copy = event.copy(body=dict(body) if isinstance(body, dict) else body)
    copy.path = "/"
    return copy


def _infer_vote_type(outputs: list[Any]) -> str:
    for member in outputs:
        for value in member:
            if isinstance(value, float) and not float(value).is_integer():
                return "regression"
    return "classification"


def _weighted_majority(row: Sequence[Any], weights: list[float]) -> Any:
    """The label with the highest total weight (ties: the first seen)."""
    totals: dict[Any, float] = {}
    for label, weight in zip(row, weights, strict=True):
        key = label if not isinstance(label, list) else tuple(label)
        totals[key] = totals.get(key, 0.0) + weight
    return max(totals, key=lambda k: totals[k])
