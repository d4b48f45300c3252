"""The run database suite runs on SQLite and on the real PostgreSQL (own schema per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from servegraph.storage.rundb import RunDB, get_run_db
from tests.storage.pgschema import pg_schema_url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, unique: str) -> Iterator[str]:
    """A fresh run database URL: a SQLite file, or a unique schema in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.db'}"
        return
    with pg_schema_url(request.getfixturevalue("postgres_url"), unique) as url:
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[RunDB]:
    """The run database at ``db_url``, closed after the test."""
    rundb = get_run_db(db_url)
    yield rundb
    rundb.close()
