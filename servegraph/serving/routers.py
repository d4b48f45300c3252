"""Routers: pick the model route of an event (ModelRouter, VotingEnsemble, SplitRouter).

A router step holds ``routes`` (key -> compiled :class:`~servegraph.serving.base.Route`)
set by the engine when the graph is compiled. ``GET /v2/models/`` lists the
routes; ``/v2/models/{key}[/versions/{v}]/...`` goes to that route.

    fn.set_topology("router", VotingEnsemble(vote_type="regression", weights={"a": 2}))
"""

from __future__ import annotations

import bisect
import random
import zlib
from collections import Counter
from typing import Any

from servegraph.errors import BadRequestError, GraphError, NotFoundError
from servegraph.serving.base import Route
from servegraph.serving.event import Event
from servegraph.serving.v2_protocol import (
    OPERATIONS,
    ModelPath,
    parse_path,
)


class BaseModelRouter:
    """Routes an event to the route named in its path (template for routers).

    Subclasses override ``select_default(event)`` (no model named in the path) or
    ``do_event`` for whole-request behaviour.
    """

    #: steps built from this class (and its subclasses) are router steps
    graph_kind = "router"

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

    def is_health(self, event: Event) -> bool:
        """Whether the event is ``GET /`` or ``GET {health_prefix}`` (MLRun's health check)."""
        if event.method != "GET":
            return False
        path = event.path
        return path in ("/", "") or path.startswith(self.health_prefix or "/v2/health")

    def get_metadata(self) -> dict[str, Any]:
        """The body of the health check: the router class, protocol and extensions."""
        return {"name": type(self).__name__, "version": self.protocol, "extensions": []}

    def do_event(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        """Dispatch the event to a route (or list the routes, or answer the health check)."""
        if self.is_health(event):
            event.body = self.get_metadata()
            return event
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
        if type(self).do_event is not BaseModelRouter.do_event or self.is_health(event):
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


__all__ = ["BaseModelRouter", "ModelRouter", "SplitRouter"]


def __getattr__(name: str) -> Any:
    # VotingEnsemble lives in servegraph.serving.ensemble (which imports this
    # module); MLRun code imports it from here, so resolve it on first use.
    if name == "VotingEnsemble":
        from servegraph.serving.ensemble import VotingEnsemble

        return VotingEnsemble
    if name in ("ParallelRun", "ParallelRunnerModes"):
        from servegraph.serving import parallel

        return getattr(parallel, name)
    if name in ("EnrichmentModelRouter", "EnrichmentVotingEnsemble"):
        from servegraph.serving import enrichment

        return getattr(enrichment, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
