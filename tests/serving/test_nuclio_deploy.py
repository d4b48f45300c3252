"""The dashboard deploy client against an aiohttp server that checks each request."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import servegraph
from servegraph.errors import DeployError
from servegraph.serving.nuclio_deploy import deploy, deploy_async, resolve_dashboard
from servegraph.serving.nuclio_spec import build_nuclio_spec

FN = {
    "metadata": {"name": "churn", "project": "demo"},
    "spec": {"graph": {"kind": "router", "routes": {}}},
}


class FakeDashboard:
    """The dashboard's /api/functions endpoints; states advance on each GET."""

    def __init__(self, states: list[str], exists: bool = False) -> None:
        self.states = states
        self.functions: dict[str, dict[str, Any]] = {}
        if exists:
            self.functions["churn"] = {"metadata": {"name": "churn"}, "status": {"state": "ready"}}
        self.calls: list[tuple[str, str]] = []
        self.bodies: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_post("/api/functions", self.create)
        self.app.router.add_put("/api/functions/{name}", self.update)
        self.app.router.add_get("/api/functions/{name}", self.get)

    def _check_headers(self, request: web.Request) -> None:
        assert request.headers["x-nuclio-function-namespace"] == "nuclio"
        assert request.headers["x-nuclio-project-name"] == "demo"

    async def create(self, request: web.Request) -> web.Response:
        self.calls.append(("POST", request.path))
        self._check_headers(request)
        assert request.content_type == "application/json"
        body = await request.json()
        self.bodies.append(body)
        name = body["metadata"]["name"]
        if name in self.functions:
            return web.json_response({"error": "exists"}, status=409)
        self.functions[name] = dict(body, status={"state": "building"})
        return web.Response(status=202)

    async def update(self, request: web.Request) -> web.Response:
        self.calls.append(("PUT", request.path))
        self._check_headers(request)
        body = await request.json()
        self.bodies.append(body)
        self.functions[request.match_info["name"]] = dict(body, status={"state": "building"})
        return web.Response(status=202)

    async def get(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", request.path))
        assert request.headers["x-nuclio-function-namespace"] == "nuclio"
        function = self.functions.get(request.match_info["name"])
        if function is None:
            return web.json_response({"error": "not found"}, status=404)
        if self.bodies and self.states:
            state = self.states.pop(0)
            function["status"] = {"state": state, "message": f"state {state}"}
            if state == "ready":
                function["status"]["externalInvocationUrls"] = ["churn.demo:31000"]
        return web.json_response(function)


async def _run(dashboard: FakeDashboard, **kwargs: Any) -> str:
    spec = build_nuclio_spec(FN)
    async with TestServer(dashboard.app) as server:
        url = str(server.make_url("")).rstrip("/")
        return await asyncio.wait_for(
            deploy_async(spec, url, poll_interval=0.01, **kwargs), timeout=10
        )


async def test_creates_then_polls_until_ready() -> None:
    dashboard = FakeDashboard(["building", "building", "ready"])
    assert await _run(dashboard) == "http://churn.demo:31000"
    assert dashboard.calls[:2] == [("GET", "/api/functions/churn"), ("POST", "/api/functions")]
    assert dashboard.calls[2:] == [("GET", "/api/functions/churn")] * 3
    body = dashboard.bodies[0]
    assert body["metadata"]["namespace"] == "nuclio"
    assert body["spec"]["handler"] == "servegraph.serving.nuclio:handler"


async def test_updates_an_existing_function() -> None:
    dashboard = FakeDashboard(["ready"], exists=True)
    assert await _run(dashboard) == "http://churn.demo:31000"
    assert ("PUT", "/api/functions/churn") in dashboard.calls
    assert ("POST", "/api/functions") not in dashboard.calls


async def test_error_state_raises_with_the_dashboard_message() -> None:
    dashboard = FakeDashboard(["building", "error"])
    with pytest.raises(DeployError, match="failed to deploy 'churn' \\(error\\): state error"):
        await _run(dashboard)


async def test_never_ready_times_out() -> None:
    dashboard = FakeDashboard(["building"] * 1000)
    with pytest.raises(DeployError, match="not ready after"):
        await _run(dashboard, timeout=0.05)


async def test_dashboard_http_error_is_translated() -> None:
    app = web.Application()

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    app.router.add_route("*", "/{tail:.*}", broken)
    async with TestServer(app) as server:
        url = str(server.make_url("")).rstrip("/")
        with pytest.raises(DeployError, match="answered 500: boom"):
            await deploy_async(build_nuclio_spec(FN), url)


async def test_unreachable_dashboard_is_a_deploy_error() -> None:
    with pytest.raises(DeployError, match="Cannot reach the Nuclio dashboard"):
        await asyncio.wait_for(deploy_async(build_nuclio_spec(FN), "http://127.0.0.1:9"), 10)


def test_without_a_dashboard_the_error_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVEGRAPH_NUCLIO_DASHBOARD", raising=False)
    with pytest.raises(DeployError, match="SERVEGRAPH_NUCLIO_DASHBOARD"):
        deploy(build_nuclio_spec(FN))
    monkeypatch.setenv("SERVEGRAPH_NUCLIO_DASHBOARD", "nuclio:8070/")
    assert resolve_dashboard(None) == "http://nuclio:8070"


def test_fn_deploy_from_sync_code_against_a_dashboard_in_a_thread() -> None:
    dashboard = FakeDashboard(["building", "ready"])
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(dashboard.app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        fn = servegraph.new_function("churn", kind="serving", project="demo")
        fn.set_topology("router")
        assert fn.deploy(dashboard=f"http://127.0.0.1:{port}") == "http://churn.demo:31000"
        assert fn.status_address == "http://churn.demo:31000"
        body = dashboard.bodies[0]
        assert body["spec"]["runtime"] == "python:3.11"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
