"""OpenTelemetry tracing: spans per request and step with parent links (the SDK's
in-memory exporter), traceparent honoured and carried through a queue step's stream
record to the function consuming it, the trace id in the tracking record."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import servegraph as sg
from servegraph import tracing
from servegraph.serving.event import Event
from servegraph.serving.http import create_app
from servegraph.serving.server import GraphServer
from servegraph.serving.v2_serving import V2ModelServer
from servegraph.streams import get_stream

otel_sdk = pytest.importorskip("opentelemetry.sdk.trace")
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def inc(x: Any) -> Any:
    return {"n": x["n"] + 1}


async def ainc(x: Any) -> Any:
    await asyncio.sleep(0)
    return {"n": x["n"] + 1}


def slow(x: Any) -> Any:
    time.sleep(0.01)
    return x


class Echo(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = otel_sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.set_tracer_provider(provider)
    yield exporter
    tracing.set_tracer_provider(None)


def flow_server(engine: str, queue: str | None = None) -> GraphServer:
    fn = sg.new_function("traced", kind="serving")
    graph = fn.set_topology("flow", engine=engine)
    step = graph.to(name="first", handler="inc").to(name="second", handler="ainc")
    if queue:
        step = step.to(">>", "q", path=queue)
    step.to(name="slow", handler="slow").respond()
    graph["slow"].timeout = 5  # type: ignore[attr-defined]  # runs in a thread (sync engine)
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    return server


def _by_name(exporter: InMemorySpanExporter) -> dict[str, Any]:
    return {span.name: span for span in exporter.get_finished_spans()}


@pytest.mark.parametrize("engine", ["sync", "async"])
async def test_request_and_step_spans_with_parent_links(
    spans: InMemorySpanExporter, engine: str
) -> None:
    async with TestClient(TestServer(create_app(flow_server(engine)))) as client:
        resp = await client.post("/calc", json={"n": 1}, headers={"traceparent": TRACEPARENT})
        assert resp.status == 200 and await resp.json() == {"n": 3}
    found = _by_name(spans)
    assert set(found) == {"POST /calc", "step first", "step second", "step slow"}
    request = found["POST /calc"]
    assert f"{request.context.trace_id:032x}" == TRACE_ID
    assert f"{request.parent.span_id:016x}" == PARENT_ID and request.parent.is_remote
    for name in ("step first", "step second", "step slow"):  # "slow" ran in a thread
        assert found[name].parent.span_id == request.context.span_id
        assert found[name].context.trace_id == request.context.trace_id
    assert request.attributes["servegraph.function"] == "traced"


def test_a_failing_step_span_records_the_error(spans: InMemorySpanExporter) -> None:
    def boom(x: Any) -> Any:
        raise ValueError("bad")

    fn = sg.new_function("traced", kind="serving")
    fn.set_topology("flow", engine="sync").to(name="boom", handler=boom).respond()
    server = fn.to_mock_server()
    assert server.test("/", body={"n": 1}, silent=True, get_body=False).status_code == 500
    step = _by_name(spans)["step boom"]
    assert step.status.status_code.name == "ERROR"
    assert step.events[0].name == "exception"


async def test_traceparent_carried_through_a_queue_to_the_consumer(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    url = f"file://{tmp_path / 'q'}"
    async with TestClient(TestServer(create_app(flow_server("async", queue=url)))) as client:
        resp = await client.post("/calc", json={"n": 1}, headers={"traceparent": TRACEPARENT})
        assert resp.status == 200
    queue_span = _by_name(spans)["step q"]
    stream = get_stream(url)
    (record,) = await stream.read("child", "c1", count=1)
    await stream.close()
    envelope, headers = tracing.extract_record(record.data)
    assert envelope["body"] == {"n": 3}  # a queue pushes {"_event_id", "body", "path"}
    body = envelope["body"]
    assert headers["traceparent"].split("-")[1:3] == [
        TRACE_ID,
        f"{queue_span.context.span_id:016x}",
    ]

    # the child function consuming the stream continues the same trace under the queue step
    spans.clear()
    child_fn = sg.new_function("child", kind="serving")
    child_fn.set_topology("flow", engine="async").to(name="first", handler="inc").respond()
    child = GraphServer(child_fn.serving_spec(graph_as_dict=False))
    child.init_states(namespace=globals())
    await child.run_async(Event(body=body, headers=headers, path="/", method="POST"))
    child_request = _by_name(spans)["POST /"]
    assert f"{child_request.context.trace_id:032x}" == TRACE_ID
    assert child_request.parent.span_id == queue_span.context.span_id


def test_the_trace_id_is_in_the_tracking_record(spans: InMemorySpanExporter) -> None:
    from servegraph.monitoring.tracking import default_stream_url

    fn = sg.new_function("scoring", kind="serving", project="shop")
    fn.set_topology("router")
    fn.add_model("echo", class_name=Echo)
    fn.set_tracking()
    server = fn.to_mock_server(track_models=True, namespace=globals())
    server.test("/v2/models/echo/infer", body={"inputs": [[1, 2]]},
                headers={"traceparent": TRACEPARENT})  # fmt: skip
    server.wait_for_completion()

    async def first() -> dict[str, Any]:
        stream = get_stream(default_stream_url())
        (rec,) = await stream.read("peek", "t", count=1)
        await stream.close()
        return rec.data

    assert asyncio.run(first())["trace_id"] == TRACE_ID


def test_tracing_off_leaves_the_plan_untouched() -> None:
    tracing.set_tracer_provider(None)
    assert tracing.get_tracer() is None  # the SDK is installed, but no provider is set
    server = flow_server("sync")
    assert server._tracer is None
    assert all(node.run.__name__ != "traced_run" for node in server.plan.nodes)  # type: ignore[union-attr]
    assert server.run(Event(body={"n": 1})).body == {"n": 3}


def test_the_trace_id_reaches_the_monitoring_rows_and_not_the_features() -> None:
    from servegraph.monitoring.records import feature_columns, flatten

    traced = {
        "endpoint_id": "ep",
        "request_id": "r1",
        "timestamp": "2026-01-01T10:00:00Z",
        "inputs": [[1.0, 2.0]],
        "outputs": [0],
        "latency_ms": 1.0,
        "trace_id": TRACE_ID,
    }
    plain = {**traced, "request_id": "r2", "trace_id": None}
    frame = flatten([("1", traced), ("2", plain)], {"ep": ["a", "b"]})["ep"]
    assert frame["trace_id"].tolist() == [TRACE_ID, None]
    assert feature_columns(frame) == ["a", "b"]  # fmt: skip
