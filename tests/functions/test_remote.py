"""Kind nuclio: post the run spec to an HTTP function and keep the run it returns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from servegraph.errors import RunError
from servegraph.functions.factory import new_function
from servegraph.storage.rundb import get_run_db
from tests.threaded_server import serve_app

SECRET = "remote-secret-77"


def test_remote_run_round_trip(function_url: str, servegraph_home: Path) -> None:
    fn = new_function("myfunc", kind="nuclio", url=function_url)
    run = fn.run(params={"p1": 5}, secrets={"ACCESS_KEY": SECRET}, watch=False)
    assert run.state() == "completed"
    assert run.outputs["accuracy"] == 10
    assert run.status["metrics"]["loss"]["yvalues"] == [2, 4, 6]
    stored = get_run_db().read_run(run.uid, "default")
    assert stored["status"]["results"] == {"accuracy": 10}
    assert stored["spec"]["secret_sources"] == [{"kind": "inline", "source": ["ACCESS_KEY"]}]
    assert run.artifact("chart.txt").get() == b"chart data"
    persisted = b"".join(p.read_bytes() for p in servegraph_home.rglob("*") if p.is_file())
    assert SECRET.encode() not in persisted


def test_http_error_is_recorded(function_url: str) -> None:
    run = new_function("f", kind="nuclio", url=f"{function_url}/broken").run(watch=False)
    assert run.state() == "error" and "HTTP 500" in (run.error or "")


def test_unreachable_url_is_a_clear_error() -> None:
    with pytest.raises(RunError, match="cannot be reached"):
        new_function("f", kind="nuclio", url="http://127.0.0.1:9").run(watch=False)


def test_local_flag_runs_the_code_here(code_file: str) -> None:
    fn = new_function("f", kind="nuclio", url="http://127.0.0.1:9", command=code_file)
    assert fn.run(handler="add", local=True, watch=False).outputs["sum"] == 3
    with pytest.raises(RunError, match="'url' or code"):
        new_function("f", kind="nuclio").run(watch=False)


@pytest.fixture
def leaky_url() -> Iterator[str]:
    """A function that echoes the secret it was sent: in an error run, or in a non-run reply."""

    async def echo_in_error(request: web.Request) -> web.Response:
        body = await request.json()
        key = body["secrets"]["ACCESS_KEY"]
        run = {"metadata": {}, "status": {"state": "error", "error": f"rejected key {key}"}}
        return web.json_response(run)

    async def echo_plain(request: web.Request) -> web.Response:
        return web.Response(text=f"rejected key {(await request.json())['secrets']['ACCESS_KEY']}")

    app = web.Application()
    app.router.add_post("/run", echo_in_error)
    app.router.add_post("/plain", echo_plain)
    with serve_app(app) as url:
        yield url


def test_secret_echoed_by_the_function_is_masked_everywhere(
    leaky_url: str, servegraph_home: Path
) -> None:
    fn = new_function("leaky", kind="nuclio", url=f"{leaky_url}/run")
    run = fn.run(secrets={"ACCESS_KEY": SECRET}, watch=False)
    assert run.state() == "error" and run.error == "rejected key ***"
    assert SECRET not in run.to_yaml()
    with pytest.raises(RunError, match="did not return a run") as info:
        new_function("leaky", kind="nuclio", url=f"{leaky_url}/plain").run(
            secrets={"ACCESS_KEY": SECRET}, watch=False
        )
    assert SECRET not in str(info.value)
    persisted = b"".join(p.read_bytes() for p in servegraph_home.rglob("*") if p.is_file())
    assert SECRET.encode() not in persisted
