"""The ingestion pipeline of a feature set as storey steps.

The feature set's transformation graph (servegraph.graph steps) is resolved
with ``servegraph.graph.resolve`` and each step wrapped in a storey ``Map``;
aggregations become one ``AggregateByKey`` keyed by the entities and timed by
the timestamp key (event time, never processing time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import storey

from servegraph.errors import FeatureStoreError, GraphError
from servegraph.graph import construct, resolve_class, resolve_handler
from servegraph.graph.calling import step_method

from .feature_set import FeatureSet

Transform = Callable[[Any], Any]
WARMUP = "__servegraph_warmup__"


def _ordered_steps(fset: FeatureSet) -> list[Any]:
    """The graph's task steps in chain order; ingestion runs a linear chain."""
    steps: dict[str, Any] = dict(fset.graph.steps.items())
    ordered: list[Any] = []
    done: set[str] = set()
    while len(ordered) < len(steps):
        ready = [
            s
            for name, s in steps.items()
            if name not in done and all(a in done for a in (s.after or []))
        ]
        if len(ready) != 1 or len(ready[0].after or []) > 1:
            names = [s.name for s in ready] or sorted(set(steps) - done)
            raise FeatureStoreError(
                f"The graph of feature set {fset.name!r} must be a linear chain of steps for "
                f"ingestion; cannot order {names}."
            )
        ordered.append(ready[0])
        done.add(ready[0].name)
    return ordered


def transformations(fset: FeatureSet, namespace: dict[str, Any] | None = None) -> list[Transform]:
    """One callable per graph step: the named method, ``do(body)`` or a storey Map/Extend
    function (``servegraph.graph.calling``), or a handler."""
    if not fset.has_graph():
        return []
    out: list[Transform] = []
    for step in _ordered_steps(fset):
        class_name = getattr(step, "class_name", None)
        handler = getattr(step, "handler", None)
        if class_name is not None:
            if isinstance(class_name, str | type):
                cls = resolve_class(class_name, namespace)
                obj = construct(
                    cls, step.class_args or {}, context=None, name=step.name, namespace=namespace
                )
            else:  # an instance given to the builder is used as is
                obj = class_name
            try:  # the serving engines' rule, for rows (bodies)
                method, _ = step_method(obj, handler, f"step {step.name!r}", rows=True)
            except GraphError as exc:
                raise FeatureStoreError(f"Feature set {fset.name!r}: {exc}.") from exc
            out.append(method)
        elif handler is not None:
            out.append(resolve_handler(handler, namespace))
        else:
            raise FeatureStoreError(
                f"Step {step.name!r} of feature set {fset.name!r} is not a task step "
                f"(kind {type(step).__name__}); ingestion runs task steps only."
            )
    return out


def aggregate_step(fset: FeatureSet) -> storey.Flow | None:
    """storey's AggregateByKey for the feature set's aggregations, on event time."""
    if not fset.aggregations:
        return None
    keys = fset.entity_names
    return storey.AggregateByKey(
        [agg.to_storey() for agg in fset.aggregations],
        storey.Table("", storey.NoopDriver()),
        key_field=keys[0] if len(keys) == 1 else keys,
        time_field=fset.timestamp_key,
    )


def _unless_warmup(fn: Transform) -> Transform:
    """Run ``fn`` on new rows only; warm-up rows (already transformed) pass through."""
    if asyncio.iscoroutinefunction(fn):

        async def run_async(body: Any) -> Any:
            return body if WARMUP in body else await fn(body)

        return run_async

    def run(body: Any) -> Any:
        return body if WARMUP in body else fn(body)

    return run


def row_steps(fset: FeatureSet, transforms: list[Transform]) -> list[storey.Flow]:
    """Map per row transform (storey engine), then the aggregation.

    Rows holding the ``WARMUP`` key are earlier offline rows replayed only to
    restore the aggregation windows; the transforms skip them.
    """
    steps: list[storey.Flow] = []
    if fset.engine == "storey":
        steps += [storey.Map(_unless_warmup(fn)) for fn in transforms]
    agg = aggregate_step(fset)
    if agg is not None:
        steps.append(agg)
    return steps


def rename_map(fset: FeatureSet) -> dict[str, str]:
    """storey's aggregate column names -> ours."""
    out: dict[str, str] = {}
    for agg in fset.aggregations:
        out.update(agg.rename_map())
    return out
