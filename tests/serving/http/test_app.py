"""The HTTP edge with a fake graph server: statuses, body limit, content types, lifecycle.

The fake stands in for GraphServer (``run_async(event) -> Response`` raising
ServegraphError subclasses); test_oip.py drives the real graph.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from servegraph.errors import (
    BadRequestError,
    ConfigError,
    NotFoundError,
    StepError,
    StepTimeoutError,
)
from servegraph.serving.event import Event, Response
from servegraph.serving.http import ServerState, create_app
from servegraph.serving.http.state import LIFECYCLE_KEY

TIMEOUT = 10.0


class FakeGraphServer:
    """Answers a few paths the way a graph would; records events and close()."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.closed = False
        self.release = asyncio.Event()

    async def run_async(self, event: Event) -> Response:
        self.events.append(event)
        path = event.path
        if path == "/echo":
            return Response(event.body, content_type=event.content_type)
        if path == "/json":
            return Response({"method": event.method, "n": len(event.body or b"")})
        if path == "/text":
            return Response("hello", content_type="text/csv")
        if path == "/created":
            return Response({"ok": True}, status_code=201, headers={"X-Step": "s1"})
        if path == "/bad":
            raise BadRequestError("The 'inputs' are wrong")
        if path == "/fail":
            raise StepError("model", "ZeroDivisionError: division by zero")
        if path == "/timeout":
            raise StepTimeoutError("step 'slow' timed out after 0.1s")
        if path == "/crash":
            raise RuntimeError("secret internals")
        if path == "/slow":
            await self.release.wait()
            return Response({"slow": "done"})
        if path.startswith("/v2/models/m"):
            return Response({"model": "m", "path": path})
        raise NotFoundError(f"no route for {path}")

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(FakeGraphServer(), max_body_size=1024)
    async with TestClient(TestServer(app)) as client:
        yield client


async def _get(client: TestClient[Any, Any], method: str, path: str, **kw: Any) -> Any:
    resp = await asyncio.wait_for(client.request(method, path, **kw), TIMEOUT)
    return resp, await resp.read()


async def test_health_and_server_metadata(client: TestClient[Any, Any]) -> None:
    resp, _ = await _get(client, "GET", "/v2/health/live")
    assert resp.status == 200 and await resp.json() == {"live": True}
    resp, _ = await _get(client, "GET", "/v2/health/ready")
    assert resp.status == 200 and await resp.json() == {"ready": True}
    resp, _ = await _get(client, "GET", "/v2")
    meta = await resp.json()
    assert meta["name"] == "servegraph" and "binary_tensor_data" in meta["extensions"]


async def test_graph_paths_keep_their_content_type(client: TestClient[Any, Any]) -> None:
    resp, body = await _get(client, "PUT", "/echo", data=b"\x00\x01", headers={
        "Content-Type": "application/x-thing"})  # fmt: skip
    assert resp.status == 200 and body == b"\x00\x01"
    assert resp.headers["Content-Type"] == "application/x-thing"
    resp, body = await _get(client, "GET", "/text")
    assert body == b"hello" and resp.headers["Content-Type"] == "text/csv"
    resp, _ = await _get(client, "DELETE", "/json", data=b"abc")
    assert await resp.json() == {"method": "DELETE", "n": 3}
    resp, _ = await _get(client, "POST", "/created")
    assert resp.status == 201 and resp.headers["X-Step"] == "s1"


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("POST", "/bad", 400, "The 'inputs' are wrong"),
        ("GET", "/nope", 404, "no route for /nope"),
        ("POST", "/fail", 500, "step 'model' failed: ZeroDivisionError"),
        ("POST", "/timeout", 504, "timed out"),
        ("POST", "/crash", 500, "internal server error"),
        ("POST", "/v2/health/live", 405, "accepts GET only"),
        ("GET", "/v2/models/m/infer", 405, "accepts POST only"),
        ("POST", "/v2/models/m/ready", 405, "accepts GET, HEAD only"),
    ],
)
async def test_error_statuses_are_json(
    client: TestClient[Any, Any], method: str, path: str, status: int, message: str
) -> None:
    resp, _ = await _get(client, method, path)
    assert resp.status == status
    error = (await resp.json())["error"]
    assert message in error
    assert "Traceback" not in error and "secret" not in error


async def test_body_over_the_limit_is_400_and_harms_nothing(client: TestClient[Any, Any]) -> None:
    resp, _ = await _get(client, "POST", "/echo", data=b"x" * 2048)
    assert resp.status == 400
    assert "over the limit" in (await resp.json())["error"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: aiohttp's own limit
        for _ in range(4):
            yield b"y" * 512

    resp, _ = await _get(client, "POST", "/echo", data=chunks())
    assert resp.status == 400 and "size limit" in (await resp.json())["error"]
    resp, body = await _get(client, "POST", "/echo", data=b"small")
    assert resp.status == 200 and body == b"small"


async def test_event_carries_method_path_headers_and_request_id() -> None:
    fake = FakeGraphServer()
    async with TestClient(TestServer(create_app(fake))) as client:
        await _get(client, "POST", "/json", data=b"{}", headers={
            "X-Request-Id": "r-9", "Content-Type": "application/json"})  # fmt: skip
    event = fake.events[0]
    assert (event.method, event.path, event.id, event.body) == ("POST", "/json", "r-9", b"{}")
    assert event.content_type == "application/json"
    assert {k.lower(): v for k, v in event.headers.items()}["x-request-id"] == "r-9"
    assert fake.closed  # the app's cleanup closed the graph


async def test_metrics_count_requests_errors_and_latency(client: TestClient[Any, Any]) -> None:
    await _get(client, "POST", "/v2/models/m/infer")
    await _get(client, "POST", "/v2/models/other/infer")  # 404: not a label
    await _get(client, "POST", "/fail")
    resp, body = await _get(client, "GET", "/metrics")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert 'servegraph_requests_total{model="m",status="200"} 1.0' in text
    assert 'servegraph_errors_total{model="",status="404"} 1.0' in text
    assert 'servegraph_errors_total{model="",status="500"} 1.0' in text
    assert 'servegraph_request_latency_seconds_count{model="m"} 1.0' in text


async def test_each_app_has_its_own_metrics_registry() -> None:
    one, two = create_app(FakeGraphServer()), create_app(FakeGraphServer())
    async with TestClient(TestServer(one)) as c1, TestClient(TestServer(two)) as c2:
        await _get(c1, "POST", "/v2/models/m/infer")
        _, body = await _get(c2, "GET", "/metrics")
    assert 'model="m"' not in body.decode()


async def test_openapi_document_lists_the_endpoints(client: TestClient[Any, Any]) -> None:
    resp, _ = await _get(client, "GET", "/openapi.json")
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/v2/health/live",
        "/v2/health/ready",
        "/v2",
        "/metrics",
        "/v2/models/{name}/infer",
        "/v2/models/{name}/versions/{version}/ready",
    ):
        assert path in doc["paths"], path  # fmt: skip
    infer = doc["paths"]["/v2/models/{name}/infer"]["post"]
    assert "application/octet-stream" in infer["requestBody"]["content"]  # binary extension


async def test_not_ready_while_draining(client: TestClient[Any, Any]) -> None:
    assert client.app is not None
    client.app[LIFECYCLE_KEY].state = ServerState.DRAINING
    resp, _ = await _get(client, "GET", "/v2/health/ready")
    assert resp.status == 503 and "draining" in (await resp.json())["error"]
    resp, _ = await _get(client, "POST", "/json")
    assert resp.status == 503
    resp, _ = await _get(client, "GET", "/v2/health/live")
    assert resp.status == 200


async def test_graceful_shutdown_finishes_in_flight_then_closes() -> None:
    fake = FakeGraphServer()
    app = create_app(fake)
    runner = web.AppRunner(app, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        slow = asyncio.ensure_future(session.post(f"http://127.0.0.1:{port}/slow"))
        while not fake.events:  # wait until the request is in flight
            await asyncio.sleep(0.01)
        cleanup = asyncio.ensure_future(runner.cleanup())
        await asyncio.sleep(0.05)
        assert app[LIFECYCLE_KEY].state is ServerState.DRAINING
        assert not fake.closed  # close hooks wait for the in-flight request
        fake.release.set()
        resp = await asyncio.wait_for(slow, TIMEOUT)
        assert resp.status == 200 and await resp.json() == {"slow": "done"}
        await asyncio.wait_for(cleanup, TIMEOUT)
    assert fake.closed and app[LIFECYCLE_KEY].state is ServerState.STOPPED


class FailingStart(FakeGraphServer):
    """A server whose start (e.g. its tracking sink) fails."""

    async def start(self) -> None:
        raise OSError("stream unreachable")


async def test_a_failing_start_still_closes_the_graph() -> None:
    fake = FailingStart()
    runner = web.AppRunner(create_app(fake))
    with pytest.raises(OSError, match="stream unreachable"):
        await asyncio.wait_for(runner.setup(), TIMEOUT)
    await asyncio.wait_for(runner.cleanup(), TIMEOUT)
    assert fake.closed  # the models' and steps' close hooks ran


def test_bad_max_body_size_raises() -> None:
    with pytest.raises(ConfigError, match=r"'max_body_size'.*Got 0"):
        create_app(FakeGraphServer(), max_body_size=0)


async def test_the_binary_tensor_header_reaches_the_graph_under_its_canonical_name() -> None:
    fake = FakeGraphServer()
    async with TestClient(TestServer(create_app(fake))) as client:
        await _get(client, "POST", "/json", data=b"{}", headers={
            "inference-header-content-length": "2"})  # fmt: skip
    assert fake.events[0].headers["Inference-Header-Content-Length"] == "2"
