"""The dashboard's fixtures: the fixture data set written once per session, the app over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from servegraph.config import Config, get_config
from servegraph.ui import make_app
from tests.threaded_server import serve_app
from tests.ui import data


@pytest.fixture(scope="session")
def ui_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, data.Fixture]]:
    """The fixture data set under its own SERVEGRAPH_HOME, and that home's config."""
    home = tmp_path_factory.mktemp("ui-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SERVEGRAPH_HOME", str(home))
        for var in ("SERVEGRAPH_DBPATH", "SERVEGRAPH_ARTIFACT_PATH", "SERVEGRAPH_ONLINE_STORE"):
            mp.delenv(var, raising=False)
        mp.delenv("SERVEGRAPH_OFFLINE_PATH", raising=False)
        mp.delenv("SERVEGRAPH_STREAM_PATH", raising=False)
        mp.chdir(home)
        fixture = data.build(home)
        config = get_config()
    yield config, fixture


@pytest.fixture
def ui_app(ui_config: tuple[Config, data.Fixture]) -> web.Application:
    return make_app(ui_config[0])


@pytest.fixture(scope="session")
def ui_url(ui_config: tuple[Config, data.Fixture]) -> Iterator[str]:
    """The dashboard over the fixture data, served from a thread (for the browser)."""
    config = ui_config[0]
    with serve_app(make_app(config, live_stream=data.tracking_stream(config.home))) as url:
        yield url


@pytest.fixture
def fx(ui_config: tuple[Config, data.Fixture]) -> data.Fixture:
    return ui_config[1]


def artifacts_dir() -> Path:
    """Where the browser tests write screenshots (gitignored)."""
    path = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
    path.mkdir(parents=True, exist_ok=True)
    return path
