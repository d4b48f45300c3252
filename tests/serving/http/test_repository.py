"""The V2 model-repository extension on the real app: index, load, unload, weights, canary."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import servegraph
from servegraph.serving.canary import CanaryPolicy
from servegraph.serving.event import Event
from servegraph.serving.http import create_app
from servegraph.serving.server import GraphServer
from servegraph.serving.v2_serving import V2ModelServer

CLOSED: list[str] = []


class Scaler(V2ModelServer):
    """Multiplies by the number in model_path ("x2"); loading takes a while."""

    def load(self) -> None:
        time.sleep(0.2)
        self.factor = float(str(self.model_path).lstrip("x"))

    def predict(self, request: dict[str, Any]) -> Any:
        if self.get_param("fail_predict", False):
            raise RuntimeError("canary bug")
        return [row[0] * self.factor for row in request["inputs"]]

    def close(self) -> None:
        CLOSED.append(f"{self.name}:{self.version}")


def _server() -> GraphServer:
    fn = servegraph.new_function("scale", kind="serving", project="p")
    fn.set_topology("router")
    fn.add_model("m:v1", class_name=Scaler, model_path="x1")
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    return server


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    CLOSED.clear()
    async with TestClient(TestServer(create_app(_server()))) as client:
        yield client


async def _post(client: TestClient[Any, Any], path: str, body: Any = None) -> tuple[int, Any]:
    resp = await asyncio.wait_for(client.post(path, json=body), 30)
    return resp.status, await resp.json()


async def _infer(client: TestClient[Any, Any], path: str = "/v2/models/m/infer") -> Any:
    status, body = await _post(client, path, {"inputs": [[1.0]]})
    assert status == 200, body
    return body


async def test_load_swaps_the_default_version_and_closes_the_old_one(
    client: TestClient[Any, Any],
) -> None:
    assert (await _infer(client))["outputs"] == [1.0]
    status, body = await _post(
        client,
        "/v2/repository/models/m/load",
        {"parameters": {"model_path": "x2", "version": "v2"}},
    )
    assert status == 200 and body == {"name": "m", "version": "v2", "state": "READY"}
    answer = await _infer(client)
    assert answer["outputs"] == [2.0] and answer["model_version"] == "v2"
    assert CLOSED == ["m:v1"]
    status, index = await _post(client, "/v2/repository/index")
    assert [(e["name"], e["version"], e["state"], e["default"]) for e in index] == [
        ("m", "v2", "READY", True)
    ]
    status, body = await _post(client, "/v2/models/m/versions/v1/infer", {"inputs": [[1.0]]})
    assert status == 404 and "m:v1" in body["error"]


async def test_every_loaded_version_answers_on_its_version_path(
    client: TestClient[Any, Any],
) -> None:
    params = {"model_path": "x3", "version": "v3", "keep_previous": True}
    assert (await _post(client, "/v2/repository/models/m/load", {"parameters": params}))[0] == 200
    assert (await _infer(client, "/v2/models/m/versions/v1/infer"))["outputs"] == [1.0]
    assert (await _infer(client, "/v2/models/m/versions/v3/infer"))["outputs"] == [3.0]
    assert (await _infer(client))["outputs"] == [3.0]
    status, body = await _post(
        client, "/v2/repository/models/m/unload", {"parameters": {"version": "v1"}}
    )
    assert status == 200 and body["state"] == "UNLOADED" and CLOSED == ["m:v1"]
    text = await (await client.get("/metrics")).text()
    assert (
        'servegraph_model_version_requests_total{model="m",status="200",version="v1"} 1.0' in text
    )
    assert (
        'servegraph_model_version_requests_total{model="m",status="200",version="v3"} 2.0' in text
    )


async def test_a_failed_load_keeps_the_old_version_serving(client: TestClient[Any, Any]) -> None:
    status, body = await _post(
        client,
        "/v2/repository/models/m/load",
        {"parameters": {"model_path": "not-a-number", "version": "bad"}},
    )
    assert status == 500 and "bad" in body["error"] and "not-a-number" in body["error"]
    assert (await _infer(client))["outputs"] == [1.0]
    index = (await _post(client, "/v2/repository/index"))[1]
    assert {(e["version"], e["state"]) for e in index} == {("v1", "READY"), ("bad", "UNAVAILABLE")}


@pytest.mark.parametrize(
    ("path", "body", "status", "match"),
    [
        ("/v2/repository/models/m/load", {"parameters": {"nope": 1}}, 400, "unknown parameters"),
        ("/v2/repository/models/m/load", {"parameters": {"default": "yes"}}, 400, "true or false"),
        ("/v2/repository/models/m/load", {"parameters": {"canary_weight": 150}}, 400, "percent"),
        ("/v2/repository/models/new/load", {}, 404, "class_name"),
        ("/v2/repository/models/m/unload", {"parameters": {"version": "v9"}}, 404, "v9"),
        ("/v2/repository/models/m/weights", {"weights": {"v1": -1}}, 400, "non-negative"),
    ],
)
async def test_bad_repository_requests_get_clear_errors(
    client: TestClient[Any, Any], path: str, body: Any, status: int, match: str
) -> None:
    got, answer = await _post(client, path, body)
    assert got == status and match in answer["error"]
    assert (await _infer(client))["outputs"] == [1.0]


async def test_load_runs_off_the_event_loop(client: TestClient[Any, Any]) -> None:
    """While a slow version loads, the current one keeps answering."""
    params = {"model_path": "x2", "version": "v2"}
    load = asyncio.ensure_future(
        _post(client, "/v2/repository/models/m/load", {"parameters": params})
    )
    answered = []
    while not load.done():
        answered.append((await _infer(client))["outputs"][0])
        await asyncio.sleep(0.001)
    assert (await load)[0] == 200
    assert set(answered) <= {1.0, 2.0}
    assert (await _infer(client))["outputs"] == [2.0]


async def test_canary_is_promoted_when_no_worse_than_stable(client: TestClient[Any, Any]) -> None:
    params = {"model_path": "x2", "version": "v2", "canary_weight": 50, "min_requests": 10}
    params["latency_tolerance"] = 1e6  # decide on errors only: no timing in tests
    assert (await _post(client, "/v2/repository/models/m/load", {"parameters": params}))[0] == 200
    seen = set()
    for _ in range(200):
        seen.add((await _infer(client))["outputs"][0])
        history = await (await client.get("/v2/repository/history")).json()
        if history[-1]["action"] == "promoted":
            break
    assert seen == {1.0, 2.0}
    assert history[-1]["action"] == "promoted" and history[-1]["version"] == "v2"
    assert "canary: 0 errors in 10 requests" in history[-1]["reason"]
    await asyncio.sleep(0.05)  # the retired stable closes once drained
    assert (await _infer(client))["outputs"] == [2.0] and CLOSED == ["m:v1"]


async def test_failing_canary_is_rolled_back() -> None:
    CLOSED.clear()
    server = _server()
    async with TestClient(TestServer(create_app(server))) as client:
        policy = CanaryPolicy(weight=50, min_requests=5, latency_tolerance=1e6)
        server.load_model("m", "x2", "v2", canary=policy)
        canary = server.repository.routers()[0].routes["m:v2"].object
        canary._params["fail_predict"] = True  # the new version has a bug
        failures = 0
        for _ in range(200):
            status, _body = await _post(client, "/v2/models/m/infer", {"inputs": [[1.0]]})
            failures += status != 200
            if server.repository.history[-1]["action"] == "rolled back":
                break
        assert server.repository.history[-1]["action"] == "rolled back"
        assert failures == 5
        await asyncio.sleep(0.05)
        assert CLOSED == ["m:v2"]
        assert (await _infer(client))["outputs"] == [1.0]


def test_python_load_model_and_unload_from_another_thread() -> None:
    server = _server()
    server.load_model("m", "x5", version="v5")
    response = server.run(Event(body={"inputs": [[2.0]]}, path="/v2/models/m/infer"))
    assert response.body["outputs"] == [10.0]
    thread = threading.Thread(target=server.unload_model, args=("m",))
    thread.start()
    thread.join()
    assert server.repository.index() == []


async def test_the_openapi_document_and_server_metadata_list_the_extension(
    client: TestClient[Any, Any],
) -> None:
    doc = await (await client.get("/openapi.json")).json()
    assert "/v2/repository/models/{name}/load" in doc["paths"]
    assert "model_repository" in (await (await client.get("/v2")).json())["extensions"]


async def test_split_router_weights_change_on_a_running_server() -> None:
    from servegraph.serving.routers import SplitRouter

    fn = servegraph.new_function("split", kind="serving", project="p")
    fn.set_topology("router", SplitRouter(name="split", weights={"a": 1, "b": 0}, seed=1))
    fn.add_model("a", class_name=Scaler, model_path="x1")
    fn.add_model("b", class_name=Scaler, model_path="x5")
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    async with TestClient(TestServer(create_app(server))) as client:
        outputs = {(await _infer(client, "/v2/models/infer"))["outputs"][0] for _ in range(10)}
        assert outputs == {1.0}
        status, body = await _post(
            client, "/v2/repository/models/split/weights", {"weights": {"a": 0, "b": 1}}
        )
        assert status == 200, body
        outputs = {(await _infer(client, "/v2/models/infer"))["outputs"][0] for _ in range(10)}
        assert outputs == {5.0}
        status, body = await _post(
            client, "/v2/repository/models/split/weights", {"weights": {"zzz": 1}}
        )
        assert status == 400 and "unknown routes" in body["error"]
        assert {(await _infer(client, "/v2/models/infer"))["outputs"][0]} == {5.0}


async def test_reloading_the_serving_version_closes_the_old_object_once(
    client: TestClient[Any, Any],
) -> None:
    params = {"model_path": "x4", "version": "v1"}
    assert (await _post(client, "/v2/repository/models/m/load", {"parameters": params}))[0] == 200
    assert (await _infer(client))["outputs"] == [4.0]
    assert CLOSED == ["m:v1"]
