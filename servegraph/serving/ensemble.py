"""VotingEnsemble: a router that infers through all its models and combines the votes.

``vote_type`` is ``"classification"`` (weighted majority) or ``"regression"``
(weighted mean); inferred from the outputs when not given. Members run in
threads (the default), in processes or in turn (``executor_type="array"``).
A member's outputs are a list with one prediction per input row (a prediction
may itself be a list: it is voted element by element) or a dict holding that
list under ``prediction_col_name``.

    fn.set_topology("router", VotingEnsemble(vote_type="regression", weights={"a": 2}))
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from typing import Any

from servegraph.errors import BadRequestError, GraphError, NotFoundError
from servegraph.serving.base import Route
from servegraph.serving.event import Event
from servegraph.serving.routers import BaseModelRouter
from servegraph.serving.v2_protocol import (
    make_response,
    parse_request,
)


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
    ``weights`` maps member keys to weights; as in MLRun a member left out of
    the dict weighs 0, and no dict weighs every member equally. ``executor_type``
    runs the members in threads (default), in processes or in turn (``"array"``).
    The ensemble's own name (or a path naming no model) infers through all;
    ``/v2/models/{member}/infer`` reaches one member. ``GET /v2/models/`` lists
    the members, the ensemble itself and the weights.
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
        executor_type = str(executor_type or "thread")
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
        self.version = str(kwargs.get("version") or "v1")
        self._executor: Executor | None = None

    def post_init(self, mode: str = "sync") -> None:
        """Check the weights against the members and start the executor."""
        unknown = sorted(set(self.weights or {}) - set(self.routes))
        if unknown:
            raise GraphError(
                f"VotingEnsemble {self.name!r} has weights for unknown members {unknown}; "
                f"members are {sorted(self.routes)}"
            )
        if self.weights is not None and not sum(self.weights.values()) > 0:
            raise GraphError(
                f"The 'weights' of VotingEnsemble {self.name!r} must give some member a "
                f"positive weight. Got {self.weights!r} instead."
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
        if self.is_health(event):
            event.body = self.get_metadata()
            return event
        name, version, op = self.target(event.path)
        if name is None or name == self.name:
            if name is None and not op and event.method == "GET":
                event.body = {"models": [*self.routes, self.name], "weights": self.weights}
                return event
            if not op and event.method == "GET":
                event.body = {
                    "name": self.name,
                    "version": self.version,
                    "inputs": [],
                    "outputs": [],
                }
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
            return [self._predictions(f.result()) for f in futures]

        def run(route: Route) -> Any:
            return self._predictions(route.run(_member_event(event)).body["outputs"])

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
                return self._predictions(out.body["outputs"])

            outputs = await asyncio.gather(*(run(route) for route in self.routes.values()))
            event.body = self._combine(request, list(outputs), event)
            return event
        if name is not None and name != self.name:
            route = self.find_route(name, version, op)
            return route.run(event) if route.arun is None else await route.arun(event)
        return self.do_event(event)

    def _vote(self, event: Event) -> dict[str, Any]:
        return self._combine(parse_request(event.body), self._member_outputs(event), event)

    def _predictions(self, outputs: Any) -> list[Any]:
        """A member's predictions: its outputs list, or the list under ``prediction_col_name``."""
        if isinstance(outputs, dict):
            if self.prediction_col_name not in outputs:
                raise BadRequestError(
                    f"VotingEnsemble {self.name!r}: a member's outputs have no "
                    f"{self.prediction_col_name!r} (prediction_col_name); keys: {sorted(outputs)}"
                )
            outputs = outputs[self.prediction_col_name]
        if hasattr(outputs, "tolist"):
            outputs = outputs.tolist()
        if not isinstance(outputs, list):
            raise BadRequestError(
                f"VotingEnsemble {self.name!r}: a member's outputs must be a list of "
                f"predictions, got {type(outputs).__name__}"
            )
        return outputs

    def _combine(self, request: dict[str, Any], outputs: list[Any], event: Event) -> dict[str, Any]:
        if self.weights is None:
            weights = [1.0] * len(self.routes)
        else:
            weights = [float(self.weights.get(key, 0.0)) for key in self.routes]
        vote_type = self.vote_type or _infer_vote_type(outputs)
        if len({len(member) for member in outputs}) > 1:
            raise BadRequestError(
                f"VotingEnsemble {self.name!r}: members returned different numbers of "
                f"predictions {[len(member) for member in outputs]}"
            )
        rows = list(zip(*outputs, strict=True)) if outputs else []
        result = [_vote_row(row, weights, vote_type) for row in rows]
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
    def values(item: Any) -> Any:
        if isinstance(item, list | tuple):
            for inner in item:
                yield from values(inner)
        else:
            yield item

    for value in values(outputs):
        if isinstance(value, float) and not float(value).is_integer():
            return "regression"
    return "classification"


def _vote_row(row: Sequence[Any], weights: list[float], vote_type: str) -> Any:
    """The vote of one input row (the members' predictions for it, in member order).

    A row of lists is voted element by element and keeps the members' shape.
    """
    if row and all(isinstance(item, list | tuple) for item in row):
        if len({len(item) for item in row}) > 1:
            raise BadRequestError(f"members' predictions for one row differ in length: {row}")
        return [_vote_row(column, weights, vote_type) for column in zip(*row, strict=True)]
    if vote_type == "regression":
        try:
            total = sum(w * float(v) for w, v in zip(weights, row, strict=True))
        except (TypeError, ValueError) as exc:
            raise BadRequestError(f"regression vote needs numbers, got {list(row)}") from exc
        return total / sum(weights)
    return _weighted_majority(row, weights)


def _weighted_majority(row: Sequence[Any], weights: list[float]) -> Any:
    """The label with the highest total weight (ties: the first seen)."""
    totals: dict[Any, float] = {}
    for label, weight in zip(row, weights, strict=True):
        key = label if not isinstance(label, list) else tuple(label)
        totals[key] = totals.get(key, 0.0) + weight
    return max(totals, key=lambda k: totals[k])
