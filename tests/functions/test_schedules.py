"""Cron validation and next fire times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servegraph.errors import RunError
from servegraph.functions.schedules import next_runs, validate_cron


def test_valid_and_invalid_cron_strings() -> None:
    assert validate_cron("*/5 1-3 * * mon") == "*/5 1-3 * * mon"
    for bad in ("", "* * * *", "60 * * * *", "a b c d e", "* * * * * *"):
        with pytest.raises(RunError, match="cron"):
            validate_cron(bad)


def test_next_runs() -> None:
    start = datetime(2026, 3, 1, 10, 7, tzinfo=UTC)
    assert next_runs("*/15 * * * *", start, 3) == [
        "2026-03-01T10:15:00+00:00",
        "2026-03-01T10:30:00+00:00",
        "2026-03-01T10:45:00+00:00",
    ]
