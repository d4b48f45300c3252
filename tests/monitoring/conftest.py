"""Monitoring tests: close the per-test SQLite engines so no connection outlives its test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servegraph.monitoring import db


@pytest.fixture(autouse=True)
def _dispose_engine(servegraph_home: object) -> Iterator[None]:
    yield
    db.dispose()
