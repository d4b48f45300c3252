"""RemoteStep and BatchHttpRequests against a real local aiohttp upstream."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

from servegraph.errors import GraphError, StepTimeoutError, UpstreamError
from servegraph.graph import RootFlowStep
from servegraph.serving.mock import create_mock_server
from servegraph.serving.remote import BatchHttpRequests, RemoteStep
from servegraph.serving.sync_bridge import run_coroutine
from tests.threaded_server import serve_app


class Upstream:
    """A small service: echo, a slow route, one that fails N times, one that says 404."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.headers: list[CIMultiDict[str]] = []
        self.fail_first = 2

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/echo", self.echo)
        app.router.add_route("*", "/echo/{tail:.*}", self.echo)
        app.router.add_post("/slow", self.slow)
        app.router.add_post("/flaky", self.flaky)
        app.router.add_post("/gone", self.gone)
        app.router.add_get("/text", self.text)
        return app

    def _count(self, request: web.Request) -> None:
        self.calls[request.path] = self.calls.get(request.path, 0) + 1
        self.headers.append(request.headers.copy())

    async def echo(self, request: web.Request) -> web.Response:
        self._count(request)
        body = await request.json() if request.can_read_body else None
        return web.json_response({"got": body, "path": request.path, "method": request.method})

    async def slow(self, request: web.Request) -> web.Response:
        self._count(request)
        await asyncio.sleep(2)
        return web.json_response({"late": True})

    async def flaky(self, request: web.Request) -> web.Response:
        self._count(request)
        if self.calls[request.path] <= self.fail_first:
            return web.Response(status=503, text="busy")
        return web.json_response({"ok": await request.json()})

    async def gone(self, request: web.Request) -> web.Response:
        self._count(request)
        return web.Response(status=404, text="no such thing")

    async def text(self, request: web.Request) -> web.Response:
        self._count(request)
        return web.Response(text="plain words")


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, str]]:
    service = Upstream()
    with serve_app(service.app()) as url:
        yield service, url


_servers: list[Any] = []


@pytest.fixture(autouse=True)
def close_servers() -> Iterator[None]:
    """Run the servers' close hooks (the steps' connection pools) after each test."""
    yield
    while _servers:
        run_coroutine(_servers.pop().close())


def serve(engine: str, step: Any, **step_args: Any) -> Any:
    graph = RootFlowStep(engine=engine)
    graph.to(step, name="remote", **step_args).respond()
    server = create_mock_server({"graph": graph})
    _servers.append(server)
    return server


def test_remote_step_posts_the_body_and_answers_with_the_reply(
    engine: str, upstream: tuple[Upstream, str]
) -> None:
    service, url = upstream
    server = serve(engine, RemoteStep(url=f"{url}/echo"))
    assert server.test(body={"x": 1}) == {"got": {"x": 1}, "path": "/echo", "method": "POST"}
    assert service.headers[-1]["Content-Type"] == "application/json"
    assert service.headers[-1]["X-Request-Id"]


def test_input_and_result_paths_given_to_the_step_object(
    engine: str, upstream: tuple[Upstream, str]
) -> None:
    _, url = upstream
    server = serve(engine, RemoteStep(url=url, subpath="echo", input_path="req", result_path="r"))
    out = server.test(body={"req": [1, 2], "keep": "me"})
    assert out == {
        "req": [1, 2],
        "keep": "me",
        "r": {"got": [1, 2], "path": "/echo", "method": "POST"},
    }


def test_input_and_result_paths_given_to_the_graph_step(
    engine: str, upstream: tuple[Upstream, str]
) -> None:
    _, url = upstream
    graph = RootFlowStep(engine=engine)
    graph.to(
        "servegraph.serving.remote.RemoteStep",
        name="remote",
        url=f"{url}/echo",
        input_path="req",
        result_path="r",
    ).respond()
    server = create_mock_server({"graph": graph})
    _servers.append(server)
    out = server.test(body={"req": 5})
    assert out == {"req": 5, "r": {"got": 5, "path": "/echo", "method": "POST"}}


def test_subpath_dollar_path_appends_the_event_path(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    server = serve("async", RemoteStep(url=f"{url}/echo", subpath="$path", method="GET"))
    assert server.test("/a/b") == {"got": None, "path": "/echo/a/b", "method": "GET"}


def test_url_and_body_expressions(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    step = RemoteStep(url_expression="event['to']", body_expression="event['data']")
    out = serve("async", step).test(body={"to": f"{url}/echo", "data": {"v": 3}})
    assert out["got"] == {"v": 3}


def test_a_5xx_answer_is_retried_with_backoff(upstream: tuple[Upstream, str]) -> None:
    service, url = upstream
    server = serve("async", RemoteStep(url=f"{url}/flaky", retries=3, backoff_factor=0.01))
    assert server.test(body=7) == {"ok": 7}
    assert service.calls["/flaky"] == 3  # two 503 answers, then the success


def test_when_every_attempt_fails_the_request_is_a_502_naming_the_url(
    upstream: tuple[Upstream, str],
) -> None:
    service, url = upstream
    service.fail_first = 100
    server = serve("async", RemoteStep(url=f"{url}/flaky", retries=1, backoff_factor=0))
    response = server.test(body=1, silent=True, get_body=False)
    assert response.status_code == 502
    assert "/flaky answered 503: busy after 2 attempts" in response.body["error"]
    assert service.calls["/flaky"] == 2


def test_a_4xx_answer_is_not_retried(upstream: tuple[Upstream, str]) -> None:
    service, url = upstream
    server = serve("async", RemoteStep(url=f"{url}/gone", retries=3, backoff_factor=0))
    with pytest.raises(UpstreamError, match="answered 404: no such thing"):
        server.test(body=1)
    assert service.calls["/gone"] == 1


def test_a_slow_upstream_times_out_as_504(upstream: tuple[Upstream, str]) -> None:
    service, url = upstream
    server = serve("async", RemoteStep(url=f"{url}/slow", timeout=0.2, retries=1, backoff_factor=0))
    response = server.test(body=1, silent=True, get_body=False)
    assert response.status_code == 504
    assert "timed out (0.2s) after 2 attempts" in response.body["error"]
    assert service.calls["/slow"] == 2


def test_an_unreachable_upstream_is_a_502(engine: str) -> None:
    server = serve(engine, RemoteStep(url="http://127.0.0.1:9", retries=0))
    with pytest.raises(
        UpstreamError, match=re.escape("cannot reach http://127.0.0.1:9 after 1 attempt")
    ):
        server.test(body=1)


def test_return_json_false_keeps_bytes(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    server = serve("async", RemoteStep(url=f"{url}/text", method="GET", return_json=False))
    assert server.test("/ask", body={"q": 1}) == b"plain words"


def test_one_pool_is_reused_across_requests(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    step = RemoteStep(url=f"{url}/echo")
    server = serve("async", step)
    for i in range(5):
        assert server.test(body=i)["got"] == i
    assert len(step._pool._loops) == 1


async def test_close_hook_closes_the_session(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    step = RemoteStep(url=f"{url}/echo")
    graph = RootFlowStep(engine="async")
    graph.to(step, name="remote").respond()
    server = create_mock_server({"graph": graph})
    from servegraph.serving.event import Event

    await server.run_async(Event(body=1))
    (state,) = step._pool._loops.values()
    await server.close()
    assert state.session.closed and not step._pool._loops


def test_batch_requests_call_every_element_concurrently(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    step = BatchHttpRequests(
        url_expression="event['url']",
        body_expression="event['data']",
        input_path="req",
        result_path="resp",
    )
    request = [{"url": f"{url}/echo/{i}", "data": i} for i in range(4)]
    out = serve("async", step).test(body={"req": request})
    assert [r["got"] for r in out["resp"]] == [0, 1, 2, 3]
    assert [r["path"] for r in out["resp"]] == [f"/echo/{i}" for i in range(4)]


def test_batch_requests_needs_a_list() -> None:
    server = serve("async", BatchHttpRequests(url="http://127.0.0.1:9"))
    response = server.test(body={"not": "a list"}, silent=True, get_body=False)
    assert response.status_code == 500
    assert "needs a list of requests, got dict" in response.body["error"]


def test_misuse_raises_at_build_time() -> None:
    with pytest.raises(GraphError, match="url or url_expression, not both"):
        RemoteStep(url="http://a", url_expression="event['u']")
    with pytest.raises(
        GraphError, match=re.escape("'retries' parameter must be an int >= 0. Got -1")
    ):
        RemoteStep(url="http://a", retries=-1)
    with pytest.raises(GraphError, match="bad expression"):
        RemoteStep(url_expression="event[")


def test_errors_map_to_statuses() -> None:
    assert UpstreamError.status_code == 502 and StepTimeoutError.status_code == 504


def test_the_remote_steps_have_built_in_names(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    for spelling in ("$remote", "RemoteStep", "mlrun.serving.remote.RemoteStep"):
        graph = RootFlowStep(engine="async")
        graph.to(spelling, name="remote", url=f"{url}/echo").respond()
        server = create_mock_server({"graph": graph})
        _servers.append(server)
        assert server.test(body={"s": spelling})["got"] == {"s": spelling}


def test_to_dict_writes_the_arguments_given() -> None:
    step = RemoteStep(
        name="echo", url="/url", method="GET", input_path="req", result_path="r", retries=4
    )
    assert step.to_dict() == {
        "name": "echo",
        "class_name": "servegraph.serving.remote.RemoteStep",
        "class_args": {"url": "/url", "method": "GET", "return_json": True, "retries": 4},
        "input_path": "req",
        "result_path": "r",
    }
