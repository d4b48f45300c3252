"""What ``curl -d`` sends (form-urlencoded content type) on the flow and router topologies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import servegraph
from servegraph.serving.http import create_app
from servegraph.serving.server import GraphServer
from servegraph.serving.v2_serving import V2ModelServer

TIMEOUT = 10.0
# curl 8's headers for `curl -X POST URL -d '...'`
CURL = {
    "User-Agent": "curl/8.5.0",
    "Accept": "*/*",
    "Content-Type": "application/x-www-form-urlencoded",
}


def scale(body: dict[str, Any]) -> dict[str, Any]:
    return {"outputs": [[2 * x for x in row] for row in body["inputs"]]}


class Echo(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


def flow_server() -> GraphServer:
    fn = servegraph.new_function("curl-fn", kind="serving")
    graph = fn.set_topology("flow")
    graph.to(name="scale", handler="scale").respond()
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    return server


def router_server() -> GraphServer:
    fn = servegraph.new_function("curl-router", kind="serving")
    fn.set_topology("router")
    fn.add_model("echo", class_name=Echo)
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    return server


@pytest.fixture(params=["flow", "router"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[TestClient[Any, Any]]:
    server = flow_server() if request.param == "flow" else router_server()
    async with TestClient(TestServer(create_app(server))) as client:
        yield client


async def _post(client: TestClient[Any, Any], data: bytes, **headers: str) -> tuple[int, Any]:
    resp = await asyncio.wait_for(
        client.post("/v2/models/echo/infer", data=data, headers={**CURL, **headers}), TIMEOUT
    )
    return resp.status, await resp.json()


async def test_curl_json_body_is_read_as_json(client: TestClient[Any, Any]) -> None:
    status, body = await _post(client, b'{"inputs": [[1, 2]]}')
    assert status == 200, body
    assert body["outputs"] in ([[2, 4]], [[1, 2]])


async def test_json_with_leading_whitespace_and_text_plain(client: TestClient[Any, Any]) -> None:
    status, body = await _post(client, b'  \n{"inputs": [[3]]}', **{"Content-Type": "text/plain"})
    assert status == 200, body


async def test_a_body_that_is_not_json_names_its_content_type(
    client: TestClient[Any, Any],
) -> None:
    status, body = await _post(client, b"inputs=1&x=2")
    assert status == 415, body
    assert body["error"].startswith(
        "The request body was sent as Content-Type 'application/x-www-form-urlencoded'"
    )


async def test_broken_json_declared_as_json_is_400() -> None:
    async with TestClient(TestServer(create_app(flow_server()))) as client:
        status, body = await _post(client, b'{"inputs": [', **{"Content-Type": "application/json"})
    assert status == 400 and "not valid JSON" in body["error"]
