"""Fire the stored cron schedules of projects: each due schedule runs once, tracked.

A schedule is due at ``now`` when its cron has a fire time after its last run
(or its creation) and not after ``now``; missed fire times collapse into one run.

>>> fired = run_due(datetime(2026, 1, 1, 2, 0, tzinfo=UTC))        # doctest: +SKIP
>>> [(f["project"], f["name"], f["state"]) for f in fired]          # doctest: +SKIP
[('churn', 'nightly', 'completed')]
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from croniter import croniter

from servegraph.errors import ServegraphError
from servegraph.storage.rundb import RunDB, get_run_db

# schedule kinds fired by a layer above functions: kind -> "module:function";
# the function takes the schedule dict and returns (uid, state, error)
FIRE_KINDS: dict[str, str] = {"monitoring": "servegraph.monitoring.schedule:fire_schedule"}


def next_fire(schedule: dict[str, Any]) -> datetime:
    """The first fire time of ``schedule`` after its last run (or its creation)."""
    since = schedule.get("last_run") or schedule["created"]
    start = datetime.fromisoformat(since) if isinstance(since, str) else since
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    fire: datetime = croniter(schedule["cron"], start).get_next(datetime)
    return fire


def due_schedules(now: datetime, db: RunDB | None = None) -> list[dict[str, Any]]:
    """The stored schedules (all projects) whose next fire time is not after ``now``."""
    return [s for s in (db or get_run_db()).list_schedules() if next_fire(s) <= now]


def fire(schedule: dict[str, Any], now: datetime, db: RunDB | None = None) -> dict[str, Any]:
    """Run one schedule's function or workflow now and record its ``last_run``.

    Returns ``{"project", "name", "uid", "state", "error"}``; a failing target
    (or a project that cannot be loaded) is reported there, never raised.
    """
    from servegraph.functions.project import load_project  # projects import this layer

    db = db or get_run_db()
    target = schedule["scheduled_object"]
    uid, state, error = "", "error", ""
    try:
        if schedule["kind"] in FIRE_KINDS:
            module, _, function = FIRE_KINDS[schedule["kind"]].partition(":")
            fire_kind = getattr(importlib.import_module(module), function)
            uid, state, error = fire_kind(schedule)
            db.set_schedule_last_run(schedule["project"], schedule["name"], now, uid)
            return {"project": schedule["project"], "name": schedule["name"], "uid": uid,
                    "state": state, "error": error}  # fmt: skip
        stored = db.get_project(schedule["project"])
        project = load_project(str(stored.get("context") or "."), schedule["project"])
        if schedule["kind"] == "workflow":
            wf = project.run(target["workflow"], arguments=target.get("params"), watch=False)
            uid, state, error = wf.uid, wf.state, wf.error or ""
        else:
            run = project.run_function(target["function"], params=target.get("params"), watch=False)
            uid, state, error = run.uid, run.state(), run.error or ""
    except Exception as exc:  # one broken schedule must not stop the others
        error = str(exc) if isinstance(exc, ServegraphError) else f"{type(exc).__name__}: {exc}"
    db.set_schedule_last_run(schedule["project"], schedule["name"], now, uid)
    return {"project": schedule["project"], "name": schedule["name"], "uid": uid,
            "state": state, "error": error}  # fmt: skip


def run_due(now: datetime | None = None, db: RunDB | None = None) -> list[dict[str, Any]]:
    """Fire every schedule due at ``now`` (default: the current time), in name order."""
    now = now or datetime.now(UTC)
    return [fire(s, now, db) for s in due_schedules(now, db)]


def run_forever(
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], object] = time.sleep,
    max_ticks: int | None = None,
    interval: float = 30.0,
) -> int:
    """Poll for due schedules every ``interval`` seconds; returns the number fired."""
    fired, ticks = 0, 0
    while max_ticks is None or ticks < max_ticks:
        fired += len(run_due(clock()))
        ticks += 1
        if max_ticks is None or ticks < max_ticks:
            sleep(interval)
    return fired
