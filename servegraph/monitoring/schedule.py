"""Run something on a cron schedule (five-field cron expressions, via croniter).

>>> import datetime as dt
>>> next_fire("*/15 * * * *", dt.datetime(2026, 1, 1, 10, 7, tzinfo=dt.UTC)).isoformat()
'2026-01-01T10:15:00+00:00'
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from croniter import croniter

from servegraph.errors import ConfigError


def validate(expression: str) -> str:
    """Return ``expression`` if it is a valid cron expression, else raise ConfigError."""
    if not isinstance(expression, str) or not croniter.is_valid(expression):
        raise ConfigError(
            "The 'schedule' parameter must be a cron expression such as '*/10 * * * *'. "
            f"Got {expression!r} instead."
        )
    return expression


def next_fire(expression: str, after: dt.datetime) -> dt.datetime:
    """The first time strictly after ``after`` that matches ``expression``."""
    fire: dt.datetime = croniter(validate(expression), after).get_next(dt.datetime)
    return fire


def run_on_schedule(
    expression: str,
    task: Callable[[], object],
    *,
    max_runs: int | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Call ``task`` at every fire time of ``expression``; return the number of runs.

    Runs forever unless ``max_runs`` is given; ``now`` and ``sleep`` can be
    replaced (tests use a fake clock).
    """
    validate(expression)
    runs = 0
    while max_runs is None or runs < max_runs:
        current = now()
        wait = (next_fire(expression, current) - current).total_seconds()
        if wait > 0:
            sleep(wait)
        task()
        runs += 1
    return runs


def fire_schedule(schedule: dict[str, Any]) -> tuple[str, str, str]:
    """Run the monitoring job a stored ``monitoring`` schedule describes (``servegraph
    scheduler``); returns ``("", "completed" | "error", error text)``.

    The schedule's ``scheduled_object`` holds ``config`` (a settings YAML, else the
    project's), ``endpoint`` and ``window`` (all optional).
    """
    from servegraph.monitoring.settings import MonitorSettings

    target = schedule.get("scheduled_object") or {}
    project = schedule.get("project") or None
    settings = MonitorSettings.load(target.get("config"), project)
    job = settings.job(
        project=project, endpoint=target.get("endpoint"), window=target.get("window")
    )
    report = job.run_sync()
    errors = "; ".join(str(e) for e in report.errors)
    return "", "error" if report.errors else "completed", errors
