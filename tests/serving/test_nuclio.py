"""The Nuclio entry point, driven by nuclio-sdk's test platform."""

from __future__ import annotations

import json
import logging
from typing import Any

import nuclio_sdk
import pytest
from nuclio_sdk.test import Platform

from servegraph.errors import ConfigError, DeployError
from servegraph.graph import RootFlowStep, RouterStep
from servegraph.serving import GraphContext, MockEvent, Response, nuclio


@pytest.fixture
def router_spec(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    router = RouterStep(name="router")
    router.add_route("m1", class_name="tests.serving.steps.Sum")
    spec = {"version": "v2", "parameters": {}, "graph": router.to_dict(), "function_uri": "p/fn"}
    monkeypatch.setenv(nuclio.SPEC_ENV, json.dumps(spec))
    return spec


def test_handler_serves_v2_requests(router_spec: dict[str, Any]) -> None:
    platform = Platform()
    event = nuclio_sdk.Event(
        body=json.dumps({"id": "r1", "inputs": [[1, 2]]}).encode(),
        content_type="application/json",
        method="POST",
        path="/v2/models/m1/infer",
    )
    response = platform.call_handler(nuclio.handler, event)
    assert response.status_code == 200 and response.content_type == "application/json"
    assert json.loads(response.body) == {"id": "r1", "model_name": "m1", "outputs": [3]}


def test_handler_turns_errors_into_json(router_spec: dict[str, Any]) -> None:
    platform = Platform()
    event = nuclio_sdk.Event(body=b'{"inputs": [[1]]}', method="POST", path="/v2/models/x/infer")
    response = platform.call_handler(nuclio.handler, event)
    assert response.status_code == 404
    assert "'x'" in json.loads(response.body)["error"]


async def test_async_handler(router_spec: dict[str, Any]) -> None:
    platform = Platform()
    context = platform.context
    nuclio.init_context(context)
    event = nuclio_sdk.Event(
        body=b'{"inputs": [[4, 4]]}', method="POST", path="/v2/models/m1/infer"
    )
    response = await nuclio.handler_async(context, event)
    assert json.loads(response.body)["outputs"] == [8]


class Local:
    def do(self, x: dict[str, Any]) -> dict[str, Any]:
        return {"got": x}


def test_nuclio_init_hook_installs_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = RootFlowStep(engine="sync")
    graph.to("Local", name="local").respond()
    monkeypatch.setenv(nuclio.SPEC_ENV, json.dumps({"graph": graph.to_dict()}))
    context = Platform().context
    nuclio.nuclio_init_hook(context, globals(), "serving")
    event = nuclio_sdk.Event(body=b'{"a": 1}', method="POST", path="/")
    response = context.mlrun_handler(context, event)
    assert json.loads(response.body) == {"got": {"a": 1}}
    with pytest.raises(DeployError, match="kind"):
        nuclio.nuclio_init_hook(context, globals(), "job")


def test_init_hook_with_a_graph_context_as_mlrun_tests_pass_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    graph = RootFlowStep(engine="sync")
    graph.to("Local", name="local").respond()
    monkeypatch.setenv(nuclio.SPEC_ENV, json.dumps({"graph": graph.to_dict()}))
    context = GraphContext()
    nuclio.nuclio_init_hook(context, globals(), nuclio.serving_subkind)
    assert nuclio.serving_subkind == "serving_v2"
    response = context.mlrun_handler(context, MockEvent('{"a": 2}', path="/"))
    assert isinstance(response, Response) and response.status_code == 200
    assert json.loads(response.body) == {"got": {"a": 2}}
    assert context.server is not None and context.server.context is context  # steps see it


def test_init_hook_with_a_bare_nuclio_context(router_spec: dict[str, Any]) -> None:
    context = nuclio_sdk.Context(logger=logging.getLogger("nuclio-test"))
    nuclio.nuclio_init_hook(context, globals(), "serving")
    event = MockEvent('{"inputs": [[2, 3]]}', path="/v2/models/m1/infer")
    response = context.mlrun_handler(context, event)
    assert isinstance(response, nuclio_sdk.Response)
    assert json.loads(response.body)["outputs"] == [5]
    missing = MockEvent('{"inputs": [[2]]}', path="/v2/models/nope/infer")
    assert context.mlrun_handler(context, missing).status_code == 404


@pytest.mark.parametrize("value", [None, "{not json", "[1]"])
def test_bad_spec_environment(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv(nuclio.SPEC_ENV, raising=False)
    else:
        monkeypatch.setenv(nuclio.SPEC_ENV, value)
    with pytest.raises(ConfigError, match=nuclio.SPEC_ENV):
        nuclio.init_context(Platform().context)


def test_handler_serves_oip_binary_tensors(router_spec: dict[str, Any]) -> None:
    import numpy as np

    rows = np.array([[1, 2], [3, 4]], dtype=np.int32)
    head = json.dumps(
        {
            "inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT32",
                        "parameters": {"binary_data_size": rows.nbytes}}],
            "parameters": {"binary_data_output": True},
        }
    ).encode()  # fmt: skip
    event = nuclio_sdk.Event(
        body=head + rows.tobytes(),
        method="POST",
        path="/v2/models/m1/infer",
        headers={"Inference-Header-Content-Length": str(len(head))},
    )
    response = Platform().call_handler(nuclio.handler, event)
    assert response.status_code == 200, response.body
    length = int(response.headers["Inference-Header-Content-Length"])
    doc = json.loads(response.body[:length])
    (output,) = doc["outputs"]
    assert output["shape"] == [2] and output["parameters"]["binary_data_size"] == 16
    assert np.frombuffer(response.body[length:], dtype="<i8").tolist() == [3, 7]


def _get(path: str, **fields: Any) -> nuclio_sdk.Event:
    return nuclio_sdk.Event(body=b"", method="GET", path=path, **fields)


def test_health_paths_answer_as_under_serve(router_spec: dict[str, Any]) -> None:
    platform = Platform()
    answers = {
        path: platform.call_handler(nuclio.handler, _get(path))
        for path in ("/", "/v2/health/live", "/v2/health/ready", "/v2")
    }
    assert all(r.status_code == 200 for r in answers.values()), answers
    # GET / goes through the graph: the router answers its health metadata (MLRun)
    assert json.loads(answers["/"].body) == {
        "name": "ModelRouter",
        "version": "v2",
        "extensions": [],
    }
    assert json.loads(answers["/v2/health/live"].body) == {"live": True}
    assert json.loads(answers["/v2/health/ready"].body) == {"ready": True}
    assert json.loads(answers["/v2"].body)["name"] == "servegraph"


def _tracking_spec(
    monkeypatch: pytest.MonkeyPatch, stream: str, graph: dict[str, Any] | None = None
) -> None:
    router = RouterStep(name="router")
    router.add_route("m1", class_name="tests.serving.steps.Sum")
    spec = {
        "graph": graph or router.to_dict(),
        "function_uri": "p/fn",
        "tracking": {
            "class": "servegraph.monitoring.tracking:StreamTracker",
            "stream_path": stream,
            "batch": 1000,
            "flush_interval_ms": 3_600_000,  # nothing leaves the buffer on its own
        },
    }
    monkeypatch.setenv(nuclio.SPEC_ENV, json.dumps(spec))


def _context() -> Any:
    """A context whose platform has the real callback API (the test Platform's has none)."""
    context = Platform().context
    context.platform = nuclio_sdk.Platform("test")
    return context


async def _stream_records(url: str) -> list[Any]:
    from servegraph.streams import get_stream

    stream = get_stream(url)
    try:
        return await stream.read("check", "c", count=1000)
    finally:
        await stream.close()


def _infer(rows: list[list[int]]) -> nuclio_sdk.Event:
    return nuclio_sdk.Event(
        body=json.dumps({"inputs": rows}).encode(),
        content_type="application/json",
        method="POST",
        path="/v2/models/m1/infer",
    )


async def test_termination_flushes_buffered_tracking_records(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    stream = str(tmp_path / "endpoints")
    _tracking_spec(monkeypatch, stream)
    context = _context()
    nuclio.init_context(context)
    for i in range(3):  # the sync handler: the tracker runs on the sync bridge's loop
        assert nuclio.handler(context, _infer([[i, 1]])).status_code == 200
    assert await _stream_records(stream) == []  # still buffered
    await context.platform._on_signal("termination")  # what Nuclio's wrapper calls on SIGTERM
    records = await _stream_records(stream)
    assert len(records) == 3
    ready = nuclio.handler(context, _get("/v2/health/ready"))
    assert ready.status_code == 503


async def test_drain_flushes_tracking_and_keeps_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    stream = str(tmp_path / "endpoints")
    _tracking_spec(monkeypatch, stream)
    context = _context()
    nuclio.init_context(context)
    assert (await nuclio.handler_async(context, _infer([[1, 1]]))).status_code == 200
    assert await _stream_records(stream) == []
    await context.platform._on_signal("drain")
    assert len(await _stream_records(stream)) == 1
    response = await nuclio.handler_async(context, _infer([[2, 2]]))
    assert json.loads(response.body)["outputs"] == [4]
    await context.platform._on_signal("termination")
    assert len(await _stream_records(stream)) == 2


def test_termination_drains_batchers(monkeypatch: pytest.MonkeyPatch) -> None:
    router = RouterStep(name="router")
    router.add_route(
        "m1", class_name="tests.serving.steps.Sum", max_batch_size=4, max_batch_wait_ms=1
    )
    monkeypatch.setenv(nuclio.SPEC_ENV, json.dumps({"graph": router.to_dict()}))
    context = _context()
    nuclio.init_context(context)
    assert json.loads(nuclio.handler(context, _infer([[1, 2]])).body)["outputs"] == [3]
    import asyncio

    asyncio.run(context.platform._on_signal("termination"))
    response = nuclio.handler(context, _infer([[1, 2]]))
    assert response.status_code == 503  # closed: the batcher no longer takes requests


def test_undecoded_byte_string_events(router_spec: dict[str, Any]) -> None:
    """NUCLIO_PYTHON_DECODE_EVENT_STRINGS=false: the wrapper's msgpack_raw events."""
    import msgpack

    message = {
        b"body": json.dumps({"inputs": [[5, 6]]}).encode(),
        b"content_type": b"application/json",
        b"trigger": {b"kind": b"http", b"name": b"default"},
        b"fields": {},
        b"headers": {b"X-Request-Id": b"abc"},
        b"id": b"ev-1",
        b"method": b"POST",
        b"path": b"/v2/models/m1/infer",
        b"size": 0,
        b"timestamp": 0,
        b"url": b"",
        b"shard_id": 0,
        b"num_shards": 0,
        b"type": b"",
        b"type_version": b"",
        b"version": b"",
    }
    kind = nuclio_sdk.event.EventDeserializerKinds.msgpack_raw
    event = nuclio_sdk.Event.deserialize(msgpack.unpackb(msgpack.packb(message), raw=True), kind)
    assert isinstance(event.path, bytes)
    response = Platform().call_handler(nuclio.handler, event)
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["outputs"] == [11]
    health = {**message, b"body": b"", b"method": b"GET", b"path": b"/v2/health/ready"}
    event = nuclio_sdk.Event.deserialize(msgpack.unpackb(msgpack.packb(health), raw=True), kind)
    assert Platform().call_handler(nuclio.handler, event).status_code == 200
