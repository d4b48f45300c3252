"""The webhook notifier against a real aiohttp server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from servegraph.errors import MonitoringError
from servegraph.monitoring.alerts.engine import Alert
from servegraph.monitoring.alerts.notifiers import WebhookNotifier, notifier_from_spec

ALERT = Alert(
    rule="drift",
    kind="drift",
    project="p",
    endpoint_id="ep",
    window_start="2026-03-01T11:00:00Z",
    value=0.5,
    threshold=None,
    status="drift_detected",
    message="drift alert",
)


@pytest.fixture
async def hook() -> AsyncIterator[tuple[TestServer, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def alerts(request: web.Request) -> web.Response:
        received.append({"json": await request.json(), "token": request.headers.get("X-Token")})
        return web.json_response({"ok": True})

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="hook down")

    app = web.Application()
    app.router.add_post("/alerts", alerts)
    app.router.add_post("/broken", broken)
    server = TestServer(app)
    await server.start_server()
    yield server, received
    await server.close()


async def test_posts_the_alert_as_json(hook: tuple[TestServer, list[dict[str, Any]]]) -> None:
    server, received = hook
    notifier = WebhookNotifier(url=str(server.make_url("/alerts")), headers={"X-Token": "t"})
    await notifier.notify(ALERT)
    assert received == [{"json": ALERT.to_dict(), "token": "t"}]


async def test_error_answers_and_unreachable_hooks_raise(
    hook: tuple[TestServer, list[dict[str, Any]]], unused_tcp_port: int
) -> None:
    server, _ = hook
    with pytest.raises(MonitoringError, match="answered 500"):
        await WebhookNotifier(url=str(server.make_url("/broken"))).notify(ALERT)
    with pytest.raises(MonitoringError, match="could not be reached"):
        await WebhookNotifier(url=f"http://127.0.0.1:{unused_tcp_port}/x").notify(ALERT)


def test_specs_and_bad_urls() -> None:
    assert isinstance(notifier_from_spec({"webhook": {"url": "http://h/x"}}), WebhookNotifier)
    with pytest.raises(MonitoringError, match="'url' parameter of WebhookNotifier"):
        WebhookNotifier(url="ftp://h")
    with pytest.raises(MonitoringError, match="must be one of file, log, webhook"):
        notifier_from_spec("pager")
    with pytest.raises(MonitoringError, match="invalid options"):
        notifier_from_spec({"file": {}})
