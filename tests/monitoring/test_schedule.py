from __future__ import annotations

import datetime as dt

import pytest

from servegraph.errors import ConfigError
from servegraph.monitoring.schedule import next_fire, run_on_schedule


def test_next_fire() -> None:
    at = dt.datetime(2026, 3, 1, 10, 7, 30, tzinfo=dt.UTC)
    assert next_fire("*/10 * * * *", at) == dt.datetime(2026, 3, 1, 10, 10, tzinfo=dt.UTC)
    assert next_fire("0 6 * * 1", at) == dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


def test_runs_at_each_fire_time_on_a_fake_clock() -> None:
    clock = [dt.datetime(2026, 3, 1, 10, 7, tzinfo=dt.UTC)]
    fired: list[dt.datetime] = []

    def sleep(seconds: float) -> None:
        clock[0] += dt.timedelta(seconds=seconds)

    runs = run_on_schedule(
        "*/15 * * * *",
        lambda: fired.append(clock[0]),
        max_runs=3,
        now=lambda: clock[0],
        sleep=sleep,
    )
    assert runs == 3
    assert [t.strftime("%H:%M") for t in fired] == ["10:15", "10:30", "10:45"]


@pytest.mark.parametrize("expr", ["every minute", "61 * * * *", ""])
def test_bad_expressions_are_named(expr: str) -> None:
    with pytest.raises(ConfigError, match="'schedule' parameter"):
        next_fire(expr, dt.datetime.now(dt.UTC))
