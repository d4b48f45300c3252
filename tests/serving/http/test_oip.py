"""Open Inference Protocol over HTTP on the real GraphServer (router and flow topologies)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import joblib
import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sklearn.linear_model import LogisticRegression

import servegraph
from servegraph.serving.http import create_app
from servegraph.serving.server import GraphServer
from servegraph.serving.v2_serving import V2ModelServer

TIMEOUT = 10.0
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


class EchoModel(V2ModelServer):
    """Returns its inputs; fails on a row equal to [0] (to show step errors)."""

    closed = 0

    def predict(self, request: dict[str, Any]) -> Any:
        if any(list(np.asarray(row).ravel()) == [0] for row in request["inputs"]):
            raise ZeroDivisionError("division by zero")
        return request["inputs"]

    def close(self) -> None:
        EchoModel.closed += 1


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    x = np.array(ROWS * 10) + np.random.default_rng(0).normal(0, 0.1, (20, 4))
    y = np.array([0, 2] * 10)
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    joblib.dump(LogisticRegression(max_iter=200).fit(x, y), path)
    return path


def router_server(model_file: Path, **iris_args: Any) -> GraphServer:
    fn = servegraph.new_function("iris-fn", kind="serving", project="p")
    fn.set_topology("router")
    fn.add_model("iris", class_name="SKLearnModelServer", model_path=str(model_file), **iris_args)
    fn.add_model("echo:v1", class_name=EchoModel)
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    return server


@pytest.fixture
async def client(model_file: Path) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(router_server(model_file)))) as client:
        yield client


async def _call(client: TestClient[Any, Any], method: str, path: str, **kw: Any) -> Any:
    resp = await asyncio.wait_for(client.request(method, path, **kw), TIMEOUT)
    await resp.read()
    return resp


def _tensor(data: Any, datatype: str = "FP32", name: str = "inputs") -> dict[str, Any]:
    return {"name": name, "shape": list(np.shape(data)), "datatype": datatype, "data": data}


async def test_model_list_metadata_and_readiness(client: TestClient[Any, Any]) -> None:
    resp = await _call(client, "GET", "/v2/models/")
    assert sorted((await resp.json())["models"]) == ["echo:v1", "iris"]
    meta = await (await _call(client, "GET", "/v2/models/iris")).json()
    assert meta["name"] == "iris" and meta["platform"] == "sklearn"
    assert meta["inputs"] == [{"name": "inputs", "datatype": "FP64", "shape": [-1, 4]}]
    assert meta["outputs"] == [{"name": "outputs", "datatype": "INT64", "shape": [-1]}]
    meta = await (await _call(client, "GET", "/v2/models/echo/versions/v1")).json()
    assert meta["name"] == "echo" and meta["versions"] == ["v1"]
    assert (await _call(client, "GET", "/v2/models/iris/ready")).status == 200
    assert (await _call(client, "GET", "/v2/models/echo/versions/v1/ready")).status == 200


async def test_infer_with_mlrun_simple_body(client: TestClient[Any, Any]) -> None:
    resp = await _call(client, "POST", "/v2/models/iris/infer", json={"id": "a1", "inputs": ROWS})
    assert resp.status == 200
    body = await resp.json()
    assert body["id"] == "a1" and body["model_name"] == "iris" and body["outputs"] == [0, 2]


async def test_infer_with_json_tensors_echoes_id(client: TestClient[Any, Any]) -> None:
    request = {"id": "r-7", "inputs": [_tensor(ROWS)]}
    resp = await _call(client, "POST", "/v2/models/iris/infer", json=request)
    assert resp.status == 200
    body = await resp.json()
    assert body["id"] == "r-7" and body["model_name"] == "iris"
    expected = {"name": "outputs", "shape": [2], "datatype": "INT64", "data": [0, 2]}
    assert body["outputs"] == [expected]
    versioned = {"inputs": [_tensor([[1, 2]], "INT16")], "outputs": [{"name": "y"}]}
    resp = await _call(client, "POST", "/v2/models/echo/versions/v1/infer", json=versioned)
    body = await resp.json()
    assert body["model_version"] == "v1"
    assert body["outputs"] == [{"name": "y", "shape": [1, 2], "datatype": "INT16", "data": [1, 2]}]


async def test_infer_with_binary_tensors_both_ways(client: TestClient[Any, Any]) -> None:
    rows = np.array(ROWS, dtype=np.float32)
    head = json.dumps(
        {
            "inputs": [{"name": "inputs", "shape": [2, 4], "datatype": "FP32",
                        "parameters": {"binary_data_size": rows.nbytes}}],
            "parameters": {"binary_data_output": True},
        }
    ).encode()  # fmt: skip
    resp = await _call(
        client, "POST", "/v2/models/iris/infer", data=head + rows.tobytes(),
        headers={"Inference-Header-Content-Length": str(len(head))},
    )  # fmt: skip
    assert resp.status == 200, await resp.text()
    raw = await resp.read()
    length = int(resp.headers["Inference-Header-Content-Length"])
    doc = json.loads(raw[:length])
    assert doc["outputs"][0]["parameters"] == {"binary_data_size": 16}
    assert np.frombuffer(raw[length:], dtype="<i8").tolist() == [0, 2]


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"{not json", {"Content-Type": "application/json"}, "not valid JSON"),
        (json.dumps({"inputs": [_tensor([1, 2, 3]) | {"shape": [2, 2]}]}), {}, "needs 4"),
        (json.dumps({"inputs": [_tensor([1.5], "INT32")]}), {}, "does not match"),
        (json.dumps({"inputs": [_tensor([1], "FP128")]}), {}, "'datatype'"),
        (b"{}xx", {"Inference-Header-Content-Length": "2"}, "'inputs'"),
        (json.dumps({"inputs": [[1, 2]]}), {}, "cannot predict"),  # wrong feature count
        (b"[" * 100_000, {"Content-Type": "application/json"}, "not valid JSON"),  # too deep
        (b"[" * 100_000, {"Inference-Header-Content-Length": "100000"}, "not valid JSON"),
        (
            json.dumps({"inputs": [_tensor(ROWS)], "outputs": [{"name": "y", "parameters": 5}]}),
            {},
            "'parameters' of output 'y'",
        ),
        (b'{"inputs": [[1]]}', {"Content-Encoding": "gzip"}, "body"),  # not gzip at all
    ],
)
async def test_bad_requests_are_400_and_harm_nothing(
    client: TestClient[Any, Any], body: Any, headers: dict[str, str], message: str
) -> None:
    resp = await _call(client, "POST", "/v2/models/iris/infer", data=body, headers=headers)
    assert resp.status == 400
    assert message in (await resp.json())["error"]
    resp = await _call(client, "POST", "/v2/models/iris/infer", json={"inputs": ROWS})
    assert resp.status == 200 and (await resp.json())["outputs"] == [0, 2]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2/models/nope", 404),
        ("POST", "/v2/models/nope/infer", 404),
        ("GET", "/v2/models/nope/ready", 404),
        ("POST", "/v2/models/echo/versions/v9/infer", 404),
        ("POST", "/v2/models/iris/no-such-op", 404),
        ("GET", "/v2/models/iris/infer", 405),
        ("PUT", "/v2/models/iris/ready", 405),
        ("DELETE", "/v2/models/iris", 405),
        ("GET", "/v2/models/iris/versions/1/explain", 405),
    ],
)
async def test_unknown_models_versions_paths_and_methods(
    client: TestClient[Any, Any], method: str, path: str, status: int
) -> None:
    resp = await _call(client, method, path, json={"inputs": ROWS})
    assert resp.status == status
    assert "error" in await resp.json()


async def test_step_failure_is_500_naming_the_step_without_traceback(
    client: TestClient[Any, Any],
) -> None:
    resp = await _call(client, "POST", "/v2/models/echo/infer", json={"inputs": [[0]]})
    assert resp.status == 500
    error = (await resp.json())["error"]
    assert error == "step 'router' failed: ZeroDivisionError: division by zero"
    resp = await _call(client, "POST", "/v2/models/echo/infer", json={"inputs": [[1]]})
    assert resp.status == 200


def _upper(body: Any) -> Any:
    return body.decode().upper() if isinstance(body, bytes) else body


async def _slow(body: Any) -> Any:
    await asyncio.sleep(5)
    return body


async def test_flow_topology_answers_any_path_and_keeps_content_type() -> None:
    fn = servegraph.new_function("flow-fn", kind="serving")
    graph = fn.set_topology("flow", engine="async")
    graph.to(name="upper", handler="_upper").respond()
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    async with TestClient(TestServer(create_app(server))) as client:
        resp = await _call(client, "PATCH", "/any/path", data=b"hello", headers={
            "Content-Type": "text/plain"})  # fmt: skip
        assert resp.status == 200 and await resp.text() == "HELLO"
        assert resp.headers["Content-Type"].startswith("text/plain")
        resp = await _call(client, "POST", "/x", json={"a": 1})
        assert await resp.json() == {"a": 1}
        assert resp.headers["Content-Type"].startswith("application/json")
        resp = await _call(
            client, "POST", "/x", data=b'{"no": "content-type"}', skip_auto_headers=["Content-Type"]
        )
        assert await resp.json() == {"no": "content-type"}  # JSON sniffed, as without a header
        resp = await _call(  # nested too deep for the JSON parser
            client, "POST", "/x", data=b"[" * 100_000, headers={"Content-Type": "application/json"}
        )
        assert resp.status == 400 and "not valid JSON" in (await resp.json())["error"]


async def test_step_timeout_is_504() -> None:
    fn = servegraph.new_function("t-fn", kind="serving")
    step = fn.set_topology("flow", engine="async").to(name="remote", handler="_slow").respond()
    step.timeout = 0.05
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    async with TestClient(TestServer(create_app(server))) as client:
        resp = await _call(client, "POST", "/", json={"a": 1})
        assert resp.status == 504
        assert "step 'remote' exceeded its timeout" in (await resp.json())["error"]


GATE = threading.Event()


def _gated(body: Any) -> Any:
    GATE.wait(20)
    return body


async def test_a_sync_graph_step_with_a_timeout_does_not_block_other_requests() -> None:
    GATE.clear()
    fn = servegraph.new_function("sync-t-fn", kind="serving")
    step = fn.set_topology("flow", engine="sync").to(name="gated", handler="_gated").respond()
    step.timeout = 10  # only reached if the loop is blocked while the step waits
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    try:
        async with TestClient(TestServer(create_app(server))) as client:
            slow = asyncio.ensure_future(_call(client, "POST", "/", json={"a": 1}))
            live = await _call(client, "GET", "/v2/health/live")  # served while the step waits
            GATE.set()
            resp = await asyncio.wait_for(slow, TIMEOUT)
            assert live.status == 200
            assert resp.status == 200 and await resp.json() == {"a": 1}
    finally:
        GATE.set()


async def test_close_hooks_run_when_the_app_stops(model_file: Path) -> None:
    before = EchoModel.closed
    async with TestClient(TestServer(create_app(router_server(model_file)))) as client:
        assert (await _call(client, "GET", "/v2/health/ready")).status == 200
    assert EchoModel.closed == before + 1


async def test_batching_over_http_coalesces_concurrent_requests(model_file: Path) -> None:
    server = router_server(model_file, max_batch_size=16, max_batch_wait_ms=20)
    model = next(o for o in server.plan.objects() if getattr(o, "name", "") == "iris")
    calls: list[int] = []
    predict = model.predict

    def counting_predict(request: dict[str, Any]) -> Any:
        calls.append(len(request["inputs"]))
        return predict(request)

    model.predict = counting_predict  # type: ignore[method-assign]
    async with TestClient(TestServer(create_app(server))) as client:

        async def one(i: int) -> Any:
            if i % 2:
                body: Any = {"inputs": [_tensor([ROWS[1]])]}
            else:
                body = {"inputs": [ROWS[0]]}
            resp = await _call(client, "POST", "/v2/models/iris/infer", json=body)
            assert resp.status == 200
            return await resp.json()

        results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(64))), TIMEOUT)
    assert [r["outputs"] for r in results[:2]] == [
        [0],
        [{"name": "outputs", "shape": [1], "datatype": "INT64", "data": [2]}],
    ]
    assert sum(calls) == 64 and max(calls) <= 16
    assert len(calls) < 64 // 2  # far fewer predict calls than requests


def _maybe_fail(body: Any) -> Any:
    if body.get("fail"):
        raise ValueError("asked to fail")
    return body


async def test_metrics_per_model_and_per_step(model_file: Path) -> None:
    async with TestClient(TestServer(create_app(router_server(model_file)))) as client:
        await _call(client, "POST", "/v2/models/iris/infer", json={"inputs": ROWS})
        await _call(client, "POST", "/v2/models/echo/infer", json={"inputs": [[0]]})
        text = await (await _call(client, "GET", "/metrics")).text()
    assert 'servegraph_requests_total{model="iris",status="200"} 1.0' in text
    assert 'servegraph_errors_total{model="echo",status="500"} 1.0' in text
    assert 'servegraph_request_latency_seconds_count{model="iris"} 1.0' in text
    assert 'servegraph_step_latency_seconds_count{step="router"} 2.0' in text
    assert 'servegraph_step_errors_total{step="router"} 1.0' in text

    fn = servegraph.new_function("steps-fn", kind="serving")
    graph = fn.set_topology("flow", engine="async")
    graph.to(name="check", handler="_maybe_fail").to(name="inc", handler="_maybe_fail").respond()
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    async with TestClient(TestServer(create_app(server))) as client:
        assert (await _call(client, "POST", "/", json={"a": 1})).status == 200
        assert (await _call(client, "POST", "/", json={"fail": 1})).status == 500
        text = await (await _call(client, "GET", "/metrics")).text()
    assert 'servegraph_step_latency_seconds_count{step="check"} 2.0' in text
    assert 'servegraph_step_latency_seconds_count{step="inc"} 1.0' in text
    assert 'servegraph_step_errors_total{step="check"} 1.0' in text


async def test_metrics_never_label_a_model_name_the_server_does_not_serve(
    client: TestClient[Any, Any],
) -> None:
    await _call(client, "GET", "/v2/models/made-up-1/infer")  # 405 before any routing
    await _call(client, "POST", "/v2/models/made-up-2/infer", data=b"{bad", headers={
        "Content-Type": "application/json"})  # fmt: skip
    await _call(client, "POST", "/v2/models/echo/versions/v1/infer", data=b"{bad", headers={
        "Content-Type": "application/json"})  # fmt: skip
    text = await (await _call(client, "GET", "/metrics")).text()
    assert "made-up" not in text  # client-chosen labels would grow the registry without bound
    assert 'servegraph_requests_total{model="",status="405"} 1.0' in text
    assert 'servegraph_errors_total{model="echo",status="400"} 1.0' in text


class SlowLoading(V2ModelServer):
    """Loads (in the background with load_mode="async") when the test says so."""

    gate = threading.Event()

    def load(self) -> None:
        if not SlowLoading.gate.wait(10):
            raise TimeoutError("gate never opened")

    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


async def test_server_ready_waits_for_models_loading_in_the_background() -> None:
    fn = servegraph.new_function("slow-fn", kind="serving")
    fn.set_topology("router")
    fn.add_model("slow", class_name=SlowLoading)
    spec = fn.serving_spec(graph_as_dict=False) | {"load_mode": "async"}
    server = GraphServer(spec)
    server.init_states(namespace=globals())
    async with TestClient(TestServer(create_app(server))) as client:
        resp = await _call(client, "GET", "/v2/health/ready")
        assert resp.status == 503 and "slow" in (await resp.json())["error"]
        SlowLoading.gate.set()
        for _ in range(100):
            resp = await _call(client, "GET", "/v2/health/ready")
            if resp.status == 200:
                break
            await asyncio.sleep(0.02)
        assert resp.status == 200


class GatedLoading(V2ModelServer):
    """Loads in the background until the test opens the gate."""

    gate = threading.Event()

    def load(self) -> None:
        if not GatedLoading.gate.wait(10):
            raise TimeoutError("gate never opened")

    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


async def test_a_model_still_loading_answers_503_without_blocking_the_server() -> None:
    fn = servegraph.new_function("gated-fn", kind="serving")
    fn.set_topology("router")
    fn.add_model("gated", class_name=GatedLoading)
    spec = fn.serving_spec(graph_as_dict=False) | {"load_mode": "async"}
    server = GraphServer(spec)
    server.init_states(namespace=globals())
    try:
        async with TestClient(TestServer(create_app(server))) as client:
            infer = client.post("/v2/models/gated/infer", json={"inputs": [[1]]})
            resp = await asyncio.wait_for(infer, 3)  # joining the load thread would block 10 s
            assert resp.status == 503 and "loading" in (await resp.json())["error"]
            resp = await _call(client, "GET", "/v2/models/gated/ready")
            assert resp.status == 408  # MLRun's answer while a model loads
            assert (await _call(client, "GET", "/v2/health/live")).status == 200
            GatedLoading.gate.set()
            for _ in range(200):
                if (await _call(client, "GET", "/v2/health/ready")).status == 200:
                    break
                await asyncio.sleep(0.02)
            resp = await _call(client, "POST", "/v2/models/gated/infer", json={"inputs": [[1]]})
            assert resp.status == 200 and (await resp.json())["outputs"] == [[1]]
    finally:
        GatedLoading.gate.set()


async def test_fn_to_server_embeds_the_function() -> None:
    fn = servegraph.new_function("embed-fn", kind="serving")
    fn.set_topology("router")
    fn.add_model("echo", class_name="EchoModel")
    async with TestClient(TestServer(fn.to_server())) as client:
        resp = await _call(client, "POST", "/v2/models/echo/infer", json={"inputs": [[1]]})
        assert (await resp.json())["outputs"] == [[1]]


class FakeTracker:
    """A model-tracking sink (the GraphContext.tracker contract), recording calls."""

    instances: ClassVar[list[FakeTracker]] = []

    def __init__(self, context: Any = None, stream_path: str = "") -> None:
        self.calls: list[str] = []
        self.records: list[dict[str, Any]] = []
        FakeTracker.instances.append(self)

    async def start(self) -> None:
        self.calls.append("start")

    def log(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    async def close(self) -> None:
        self.calls.append("close")


async def test_tracker_starts_with_the_app_logs_each_request_and_closes(model_file: Path) -> None:
    fn = servegraph.new_function("tracked-fn", kind="serving", project="p")
    fn.set_topology("router")
    fn.add_model("iris", class_name="SKLearnModelServer", model_path=str(model_file))
    spec = fn.serving_spec(graph_as_dict=False)
    spec["tracking"] = {"class": f"{__name__}:FakeTracker", "stream_path": "memory://x"}
    server = GraphServer(spec)
    server.init_states(namespace=globals())
    tracker = FakeTracker.instances[-1]
    async with TestClient(TestServer(create_app(server))) as client:
        assert tracker.calls == ["start"]  # started with the app, before any request
        await _call(client, "POST", "/v2/models/iris/infer", json={"inputs": [_tensor(ROWS)]})
    assert tracker.calls == ["start", "close"]
    (record,) = tracker.records
    assert record["model_name"] == "iris" and record["error"] is None
    assert record["inputs"] == [pytest.approx(row) for row in ROWS]  # plain lists, not numpy
    assert record["outputs"] == [0, 2]
