"""Shared fixtures: an isolated SERVEGRAPH_HOME per test, and the real services.

A test that needs Redis or PostgreSQL takes the ``redis_url`` / ``postgres_url``
fixture. Without the service it is skipped with the reason, except under
``CI=true`` where a missing service fails the test.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_HOST, PG_PORT = "127.0.0.1", 5432


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _require(service: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{service} is not reachable at {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: real services are required)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def servegraph_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own embedded state directory."""
    home = tmp_path / "sg-home"
    home.mkdir()
    monkeypatch.setenv("SERVEGRAPH_HOME", str(home))
    for var in (
        "SERVEGRAPH_DBPATH",
        "SERVEGRAPH_ARTIFACT_PATH",
        "SERVEGRAPH_ONLINE_STORE",
        "SERVEGRAPH_OFFLINE_PATH",
        "SERVEGRAPH_STREAM_PATH",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def redis_url() -> Iterator[str]:
    """URL of a real Redis; keys the test writes are under a unique prefix-free db flush."""
    _require("Redis", REDIS_HOST, REDIS_PORT)
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}"


@pytest.fixture
def unique() -> str:
    """A short unique token for keys, streams and table names."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of the real PostgreSQL test database."""
    _require("PostgreSQL", PG_HOST, PG_PORT)
    yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test"
