"""Tracking records of model endpoints: the per-request dict a ``GraphContext.tracker`` logs.

The record follows the serving/monitoring contract::

    record = tracking_record(model, event, request, outputs, start, timestamp, error)
    log_record(model, tracker, record)  # never raises
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from typing import Any

from servegraph.serving.event import Event
from servegraph.tracing import trace_id
from servegraph.tracking_record import TrackingRecord

_second = -1
_prefix = ""


def now_iso() -> str:
    """The current UTC time as ISO-8601 with microseconds, like ``datetime.now(UTC)
    .isoformat()`` at a third of its cost (the date part is formatted once a second).

    >>> len(now_iso()), now_iso().endswith("+00:00")
    (32, True)
    """
    global _second, _prefix
    now = time.time()
    second = int(now)
    if second != _second:
        _prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = second
    return f"{_prefix}.{int((now - second) * 1e6):06d}+00:00"


# the URL this server answers on, sent with endpoint registrations (``servegraph serve``
# sets it): the retraining policy loads new model versions there
SERVER_URL_ENV = "SERVEGRAPH_SERVER_URL"


def endpoint_id(context: Any, name: str, version: str) -> str:
    """A stable id of a model endpoint: hash of project/function:model:version."""
    uri = f"{getattr(context, 'project', '')}/{getattr(context, 'name', '')}:{name}:{version}"
    return hashlib.sha1(uri.encode()).hexdigest()[:16]


def tracking_record(
    model: Any,
    event: Event,
    request: dict[str, Any],
    outputs: Any,
    start: float,
    timestamp: str,
    error: str | None,
) -> TrackingRecord:
    """The tracking record of one request served by ``model`` (a V2ModelServer)."""
    record: TrackingRecord = {
        "endpoint_id": model.endpoint_id,
        "project": getattr(model.context, "project", ""),
        "function": getattr(model.context, "name", ""),
        "model_name": model.name,
        "model_version": model.version or None,
        "request_id": request.get("id") or event.id,
        "timestamp": timestamp,
        "inputs": plain_rows(input_rows(request.get("inputs"))),
        "outputs": plain_rows(as_rows(outputs)),
        "latency_ms": (time.perf_counter() - start) * 1000.0,
        "error": error,
    }
    if event.trace is not None:  # tracing on: follow the prediction from its trace
        record["trace_id"] = trace_id(event.trace)
    metrics = getattr(model, "metrics", None)
    if metrics:  # custom metrics set with V2ModelServer.set_metric
        record["metrics"] = dict(metrics)
    return record


class TrackedCall:
    """Tracking as a wrapper: ``with TrackedCall(model, tracker, event, request) as call``
    around a model's prepare and predict; set ``call.request`` / ``call.outputs`` as they
    are known. On exit one record is logged (the error too, if one was raised); with
    ``tracker`` None it does nothing."""

    __slots__ = ("event", "model", "outputs", "request", "start", "timestamp", "tracker")

    def __init__(self, model: Any, tracker: Any, event: Event, request: dict[str, Any]) -> None:
        self.model, self.tracker, self.event, self.request = model, tracker, event, request
        self.outputs: Any = []
        if tracker is not None:
            self.start, self.timestamp = time.perf_counter(), now_iso()

    def __enter__(self) -> TrackedCall:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self.tracker is None:
            return
        error = f"{type(exc).__name__}: {exc}" if isinstance(exc, Exception) else None
        record = tracking_record(
            self.model, self.event, self.request, self.outputs, self.start, self.timestamp, error
        )
        log_record(self.model, self.tracker, record)


def log_record(model: Any, tracker: Any, record: TrackingRecord) -> None:
    """Give ``record`` to ``tracker.log``; a tracker failure is logged, never raised."""
    try:
        tracker.log(record)
    except Exception as exc:  # tracking must never fail a request
        model.context.logger.warning("tracker.log failed for %s: %s", model.name, exc)


def as_rows(outputs: Any) -> list[Any]:
    """Outputs as a list of rows (a numpy array of OIP outputs becomes its rows)."""
    if isinstance(outputs, list):
        return outputs
    if hasattr(outputs, "tolist") and getattr(outputs, "ndim", 0) > 0:
        return list(outputs)
    return [outputs]


def input_rows(inputs: Any) -> list[Any]:
    """The request's input rows; malformed inputs (a string, a dict) log no rows."""
    if isinstance(inputs, list):
        return inputs
    if hasattr(inputs, "tolist") and getattr(inputs, "ndim", 0) > 0:
        return list(inputs)
    return []


def plain_rows(values: list[Any]) -> list[Any]:
    """Rows as plain lists (numpy rows of tensor requests become lists) for tracking;
    a list of plain rows (the JSON case) is kept as it is, not copied."""
    if not values or type(values[0]) is list or type(values[0]) in (int, float, str):
        if all(type(v) is list or type(v) in (int, float, str) for v in values):
            return values
    return [v.tolist() if hasattr(v, "tolist") else v for v in values]


def register_endpoint(model: Any, tracker: Any) -> None:
    """Call ``tracker.register_endpoint`` (when it has one) for ``model``; never raises."""
    register = getattr(tracker, "register_endpoint", None)
    if register is None:
        return
    endpoint = {
        "id": model.endpoint_id,
        "project": getattr(model.context, "project", ""),
        "function": getattr(model.context, "name", ""),
        "model_name": model.name,
        "model_version": model.version or "",
        "model_uri": model.model_path or "",
    }
    url = os.environ.get(SERVER_URL_ENV, "")
    if url:
        endpoint["url"] = url
    try:
        register(endpoint)
    except Exception as exc:  # monitoring must never stop a model from serving
        model.context.logger.warning("endpoint %s not registered: %s", model.name, exc)
