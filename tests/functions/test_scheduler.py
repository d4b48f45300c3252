"""Firing stored schedules: only the due ones run, as tracked runs, and last_run is kept."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from servegraph.cli import main
from servegraph.functions.project import new_project
from servegraph.functions.scheduler import next_fire, run_due, run_forever
from servegraph.storage.rundb import get_run_db

CODE = """
def add(context, a=1, b=2):
    context.log_result("sum", a + b)

def boom(context):
    raise ValueError("scheduled failure")
"""

WORKFLOW = """
def pipeline(project, a=1):
    project.run_function("adder", params={"a": a})
"""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text(CODE)
    (tmp_path / "wf.py").write_text(WORKFLOW)
    project = new_project("sched", context=str(tmp_path))
    project.set_function("calc.py", name="adder", kind="local", handler="add")
    project.set_function("calc.py", name="boom", kind="local", handler="boom")
    project.set_workflow("main", "wf.py")
    project.save()
    project.set_schedule("at-two", "0 2 * * *", function="adder", params={"a": 40})
    project.set_schedule("at-three", "0 3 * * *", workflow="main", params={"a": 5})
    return tmp_path


def _day_after_creation() -> datetime:
    created = datetime.fromisoformat(get_run_db().get_schedule("sched", "at-two")["created"])
    return (created + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def test_once_fires_exactly_the_due_schedules_and_records_last_run(project_dir: Path) -> None:
    day = _day_after_creation()
    assert run_due(day) == []  # midnight: no fire time since creation yet
    fired = run_due(day.replace(hour=2, minute=30))
    assert [(f["name"], f["state"]) for f in fired] == [("at-two", "completed")]
    run = get_run_db().read_run(fired[0]["uid"], "sched")
    assert run["status"]["results"] == {"sum": 42}
    sched = get_run_db().get_schedule("sched", "at-two")
    assert sched["last_run"] == day.replace(hour=2, minute=30).isoformat()
    assert sched["last_run_uid"] == fired[0]["uid"]
    assert sched["scheduled_object"]["params"] == {"a": 40}  # last_run kept out of the target
    assert next_fire(sched) == day.replace(hour=2) + timedelta(days=1)
    assert run_due(day.replace(hour=2, minute=45)) == []  # fired once only

    fired = run_due(day.replace(hour=3, minute=1))
    assert [(f["name"], f["state"]) for f in fired] == [("at-three", "completed")]
    assert fired[0]["uid"]


def test_failing_target_is_recorded_and_reported(project_dir: Path) -> None:
    from servegraph.functions.project import load_project

    load_project(str(project_dir)).set_schedule("hourly-boom", "0 * * * *", function="boom")
    day = _day_after_creation()
    fired = {f["name"]: f for f in run_due(day.replace(hour=1, minute=5))}
    assert fired["hourly-boom"]["state"] == "error"
    assert "scheduled failure" in fired["hourly-boom"]["error"]
    assert get_run_db().read_run(fired["hourly-boom"]["uid"], "sched")["status"]["state"] == "error"


def test_cli_schedule_once(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    day = _day_after_creation()
    at = day.replace(hour=3, minute=30).isoformat()
    assert main(["project", "schedule", "--once", "--now", at]) == 0
    out = capsys.readouterr().out
    assert "sched/at-two: completed" in out and "sched/at-three: completed" in out
    assert main(["project", "schedule", "--once", "--now", at]) == 0
    assert "no schedule is due" in capsys.readouterr().out
    assert main(["project", "schedule", "--once", "--now", "yesterday"]) == 2
    assert "--now" in capsys.readouterr().err


def test_polling_with_an_injected_clock(project_dir: Path) -> None:
    day = _day_after_creation()
    times = iter(
        [day.replace(hour=1), day.replace(hour=2, minute=1), day.replace(hour=2, minute=2)]
    )
    slept: list[float] = []
    fired = run_forever(clock=lambda: next(times), sleep=slept.append, max_ticks=3, interval=60)
    assert fired == 1 and slept == [60, 60]
    assert (
        get_run_db().get_schedule("sched", "at-two")["last_run"]
        == day.replace(hour=2, minute=1).isoformat()
    )


def test_a_project_gone_from_disk_is_reported_not_raised(project_dir: Path) -> None:
    (project_dir / "project.yaml").write_text("{not: [valid")
    fired = run_due(_day_after_creation().replace(hour=2, minute=30))
    assert [(f["name"], f["state"]) for f in fired] == [("at-two", "error")]
    assert fired[0]["error"]
    assert get_run_db().get_schedule("sched", "at-two")["last_run"]
