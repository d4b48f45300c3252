"""The tracking record: what a model step logs per request, and the monitoring job reads.

One typed home below both serving (which builds it, in
``servegraph.serving.model_tracking``) and monitoring (which validates and
flattens it, in ``servegraph.monitoring.records``). A ``TypedDict``: a plain
dict at run time (no conversion on the request path, JSON as it is), typed
for both sides.

>>> sorted(FIELDS)[:3]
['endpoint_id', 'error', 'function']
"""

from typing import Any, NotRequired, TypedDict


class TrackingRecord(TypedDict):
    """One model request: who served it, what came in and out, how long, what failed."""

    endpoint_id: str  # hash of project/function:model:version
    project: str
    function: str
    model_name: str
    model_version: str | None
    request_id: Any  # the request's "id", else the event id
    timestamp: str  # ISO-8601 UTC, when the request reached the model
    inputs: list[Any]  # rows: lists of feature values, or dicts of them
    outputs: list[Any]  # one per row
    latency_ms: float
    error: str | None  # "ExcType: message" when the model failed
    trace_id: NotRequired[str | None]  # with tracing on: the request's trace
    metrics: NotRequired[dict[str, Any]]  # custom metrics (V2ModelServer.set_metric)


FIELDS: tuple[str, ...] = tuple(TrackingRecord.__annotations__)
