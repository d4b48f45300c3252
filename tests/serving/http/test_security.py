"""The edge's guards: bearer token, 405 with Allow, huge integers, client disconnects."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import servegraph
from servegraph.serving import commands
from servegraph.serving.http import create_app
from servegraph.serving.server import GraphServer
from servegraph.serving.v2_serving import V2ModelServer

TOKEN = "s3cret-token"


class Floats(V2ModelServer):
    """Needs numbers it can hold: a model of the usual kind."""

    def predict(self, request: dict[str, Any]) -> Any:
        return [[float(v) * 2 for v in row] for row in request["inputs"]]


def _server() -> GraphServer:
    fn = servegraph.new_function("sec", kind="serving")
    fn.set_topology("router")
    fn.add_model("m", class_name=Floats)
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    return server


@pytest.fixture
async def guarded() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(_server(), token=TOKEN))) as client:
        yield client


@pytest.fixture
async def open_client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(_server()))) as client:
        yield client


BODY = {"inputs": [[1, 2]]}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_every_route_but_liveness_needs_the_token(guarded: TestClient[Any, Any]) -> None:
    for method, path in [
        ("POST", "/v2/models/m/infer"),
        ("GET", "/v2/models/m"),
        ("GET", "/v2/health/ready"),
        ("GET", "/v2"),
        ("GET", "/openapi.json"),
        ("GET", "/anything"),
    ]:
        resp = await guarded.request(method, path, json=BODY)
        assert resp.status == 401, path
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await resp.json()
        wrong = await guarded.request(
            method, path, json=BODY, headers={"Authorization": "Bearer x"}
        )
        assert wrong.status == 401
    assert (await guarded.get("/v2/health/live")).status == 200
    assert (await guarded.get("/metrics")).status == 200  # not protected unless asked
    ok = await guarded.post("/v2/models/m/infer", json=BODY, headers=AUTH)
    assert ok.status == 200 and (await ok.json())["outputs"] == [[2.0, 4.0]]


async def test_metrics_can_be_put_behind_the_token() -> None:
    app = create_app(_server(), token=TOKEN, protect_metrics=True)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/metrics")).status == 401
        assert (await client.get("/metrics", headers=AUTH)).status == 200
        assert (await client.get("/v2/health/live")).status == 200


def test_serve_binds_loopback_by_default_and_reads_the_token_from_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse

    sub = argparse.ArgumentParser().add_subparsers()
    args = commands.add_parser(sub).parse_args(["fn.yaml"])
    assert args.host == "127.0.0.1"
    assert args.token is None
    monkeypatch.setenv("SERVEGRAPH_TOKEN", "from-env")
    assert commands.token_of(args) == "from-env"
    args = commands.add_parser(argparse.ArgumentParser().add_subparsers()).parse_args(
        ["fn.yaml", "--token", "flag", "--host", "0.0.0.0"]
    )
    assert commands.token_of(args) == "flag" and args.host == "0.0.0.0"


async def test_405_names_the_allowed_methods(open_client: TestClient[Any, Any]) -> None:
    resp = await open_client.put("/v2/models/m/infer", json=BODY)
    assert resp.status == 405 and resp.headers["Allow"] == "POST"
    resp = await open_client.post("/v2/health/live")
    assert resp.status == 405 and resp.headers["Allow"] == "GET"


async def test_an_integer_no_model_can_hold_is_a_400(open_client: TestClient[Any, Any]) -> None:
    body = '{"inputs": [[%s, 1]]}' % ("9" * 400)
    resp = await open_client.post(
        "/v2/models/m/infer", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert "integer" in (await resp.json())["error"]
    text = '{"inputs": [[1, 2]], "note": "%s"}' % ("9" * 400)  # digits inside a string: fine
    resp = await open_client.post(
        "/v2/models/m/infer", data=text, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200


async def test_a_client_that_disconnects_is_not_a_500(open_client: TestClient[Any, Any]) -> None:
    port = open_client.port
    head = (
        "POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n"
    )
    for _ in range(3):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head.encode() + b'{"inputs": [[1')
        await writer.drain()
        writer.transport.set_write_buffer_limits(0)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.close()
        del reader
    for _ in range(100):  # until the server noticed all three
        text = await (await open_client.get("/metrics")).text()
        if text.count('status="499"') or "499" in text:
            break
        await asyncio.sleep(0.02)
    text = await (await open_client.get("/metrics")).text()
    assert 'status="500"' not in text
    assert json.dumps("499")[1:-1] in text
