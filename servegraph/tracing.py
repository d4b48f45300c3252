"""OpenTelemetry tracing, optional (``pip install servegraph[otel]``); a no-op without it.

Tracing is on when ``opentelemetry`` is installed and a real tracer provider is
set (the SDK's ``trace.set_tracer_provider(TracerProvider(...))``, or
:func:`set_tracer_provider` here). A graph server decides when it compiles its
plan: with tracing off nothing is wrapped and a request costs one attribute
check. With tracing on, each request gets a SERVER span (parent: the request's
W3C ``traceparent`` header), each step a child span named ``step <name>``, a
queue step writes ``traceparent`` into the record it pushes (under
``RECORD_HEADERS``), and model tracking records the ``trace_id``.

>>> extract_record({"x": 1, RECORD_HEADERS: {"traceparent": "00-ab-cd-01"}})
({'x': 1}, {'traceparent': '00-ab-cd-01'})
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

try:
    from opentelemetry import trace as _trace
    from opentelemetry.propagate import extract as _extract
    from opentelemetry.propagate import inject as _inject
except ImportError:  # the otel extra is not installed: tracing is off
    _trace = None  # type: ignore[assignment]

#: the key of a stream record that carries the producer's trace headers
RECORD_HEADERS = "_servegraph_headers"
TRACER_NAME = "servegraph"

_override: Any = None


def set_tracer_provider(provider: Any) -> None:
    """Use ``provider`` for servegraph's spans (None: the global OpenTelemetry provider).

    Servers compiled afterwards pick it up; tests use it with the SDK's
    ``InMemorySpanExporter``.
    """
    global _override
    _override = provider


def get_tracer() -> Any:
    """servegraph's tracer when tracing is on, else None."""
    if _trace is None:
        return None
    provider = _override if _override is not None else _trace.get_tracer_provider()
    if isinstance(provider, _trace.ProxyTracerProvider | _trace.NoOpTracerProvider):
        return None  # no SDK configured: spans would record nothing
    return provider.get_tracer(TRACER_NAME)


class _Getter:
    """Reads carrier headers case-insensitively (HTTP headers keep the sender's case)."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        for name, value in carrier.items():
            if name.lower() == key:
                return [str(value)]
        return None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return [str(k).lower() for k in carrier]


_GETTER = _Getter()


@contextmanager
def request_span(tracer: Any, event: Any, function: str) -> Iterator[Any]:
    """A SERVER span for one request, child of its ``traceparent``; sets ``event.trace``."""
    parent = _extract(event.headers, getter=_GETTER) if event.headers else None  # type: ignore[arg-type]
    attributes = {"http.request.method": event.method, "url.path": event.path,
                  "servegraph.function": function, "servegraph.request_id": event.id}  # fmt: skip
    with tracer.start_as_current_span(
        f"{event.method} {event.path}",
        context=parent,
        kind=_trace.SpanKind.SERVER,
        attributes=attributes,
    ) as span:
        event.trace = _trace.set_span_in_context(span)
        yield span


def step_span(tracer: Any, name: str, event: Any) -> Any:
    """The span of one step, child of the request's span (also across threads)."""
    return tracer.start_as_current_span(
        f"step {name}", context=event.trace, attributes={"servegraph.step": name}
    )


def trace_id(context: Any) -> str | None:
    """The 32-hex-digit trace id of an OpenTelemetry context (None if it has none)."""
    if _trace is None or context is None:
        return None
    span_context = _trace.get_current_span(context).get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else None


def inject_record(record: dict[str, Any], context: Any) -> dict[str, Any]:
    """A copy of ``record`` carrying the trace headers (``traceparent``) of the current span,
    else of ``context``."""
    carrier: dict[str, str] = {}
    _inject(carrier)
    if not carrier and context is not None:
        _inject(carrier, context=context)
    if not carrier:
        return record
    return {**record, RECORD_HEADERS: carrier}


def extract_record(record: Any) -> tuple[Any, dict[str, str]]:
    """``(body, headers)`` of a stream record: the trace headers a producer put in it."""
    if isinstance(record, dict) and RECORD_HEADERS in record:
        body = {k: v for k, v in record.items() if k != RECORD_HEADERS}
        headers = record[RECORD_HEADERS]
        return body, dict(headers) if isinstance(headers, dict) else {}
    return record, {}
