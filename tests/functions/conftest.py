"""Fixtures of the functions tests: small code files to run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nuclio_sdk
import pytest
from aiohttp import web
from nuclio_sdk.test import Platform

from servegraph.functions.context import reset_current, set_current
from servegraph.functions.handler import load_handler
from tests.storage.pgschema import pg_schema_url
from tests.threaded_server import serve_app

EXAMPLE = Path(__file__).parents[2] / "examples" / "remote_function.py"

CODE = """
import os

def add(context, a=1, b=2):
    context.log_result("sum", a + b)
    return {"product": a * b}

def fail(context):
    print("about to fail")
    raise ValueError("boom in user code")

def echo_secret(context):
    print("the secret is", context.get_secret("TOKEN"))
    context.logger.info("logged", token=context.get_secret("TOKEN"))
    context.log_result("has_secret", context.get_secret("TOKEN") is not None)

def train(context, x=0, y=0):
    context.log_result("accuracy", -((x - 2) ** 2) - (y - 1) ** 2)
    context.log_result("loss", (x - 2) ** 2 + (y - 1) ** 2)
    context.log_artifact("note", body=f"x={x} y={y}")

def pid(context):
    context.log_result("pid", os.getpid())

def read(context, data):
    context.log_result("rows", len(data.as_df()))
"""


@pytest.fixture
def code_file(tmp_path: Path) -> str:
    """A Python file with handlers: add, fail, echo_secret, train, pid, read."""
    path = tmp_path / "handlers.py"
    path.write_text(CODE)
    return str(path)


@pytest.fixture
def function_url() -> Iterator[str]:
    """The seed's remote example behind an HTTP trigger, called through nuclio-sdk's platform."""
    handler = load_handler(str(EXAMPLE), "handler")
    platform = Platform()

    async def invoke(request: web.Request) -> web.Response:
        event = nuclio_sdk.Event(body=await request.read(), method="POST", path="/")
        return web.Response(text=platform.call_handler(handler, event))

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="handler exploded")

    app = web.Application()
    app.router.add_post("/", invoke)
    app.router.add_post("/broken", broken)
    with serve_app(app) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def any_dbpath(
    request: pytest.FixtureRequest, unique: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """SERVEGRAPH_DBPATH set to the default SQLite file or to a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield ""
        return
    with pg_schema_url(request.getfixturevalue("postgres_url"), unique) as url:
        monkeypatch.setenv("SERVEGRAPH_DBPATH", url)
        yield url


@pytest.fixture(autouse=True)
def no_current_context() -> Iterator[None]:
    """Each test starts without a current run context and leaves none behind."""
    token = set_current(None)
    yield
    reset_current(token)
