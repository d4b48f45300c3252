"""Fixtures of the serving tests: both engines, and a small flow builder."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sync", "async"])
def engine(request: pytest.FixtureRequest) -> str:
    """Each test taking ``engine`` runs on both engines."""
    return str(request.param)
