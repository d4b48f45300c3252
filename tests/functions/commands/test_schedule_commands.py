"""``servegraph scheduler`` as a real service process, ``schedule add|run|export``, and
scheduled runs that lack an argument."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from servegraph.functions.project import load_project, new_project
from servegraph.functions.schedule_export import on_calendar
from servegraph.functions.scheduler import run_due
from servegraph.storage.rundb import get_run_db

CODE = """
def add(context, a=1, b=2):
    context.log_result("sum", a + b)

def needs_x(context, x):
    context.log_result("x", x)
"""

WORKFLOW = """
def pipeline(project, source):
    project.run_function("adder", params={"a": len(source)})
"""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text(CODE)
    (tmp_path / "wf.py").write_text(WORKFLOW)
    project = new_project("svc", context=str(tmp_path))
    project.set_function("calc.py", name="adder", kind="local", handler="add")
    project.set_function("calc.py", name="needs-x", kind="local", handler="needs_x")
    project.set_workflow("main", "wf.py")
    project.save()
    return tmp_path


def sg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "servegraph", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)  # fmt: skip


def _make_due(project: str, name: str) -> None:
    get_run_db().set_schedule_last_run(project, name, datetime.now(UTC) - timedelta(days=2), "")


def test_scheduler_service_fires_due_schedules_and_stops_on_sigterm(project_dir: Path) -> None:
    assert sg("schedule", "add", "every-minute", "--project", "svc", "--cron", "* * * * *",
              "--function", "adder", "-a", "a=40").returncode == 0  # fmt: skip
    _make_due("svc", "every-minute")
    proc = subprocess.Popen(
        [sys.executable, "-m", "servegraph", "scheduler", "--interval", "0.2"],
        stderr=subprocess.PIPE, text=True, cwd=project_dir,
    )  # fmt: skip
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "svc/every-minute: completed" in line or not line:
            break
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    log = "".join(lines) + rest
    assert proc.returncode == 0, log
    assert "svc/every-minute: completed" in log
    assert "received SIGTERM" in log and "scheduler stopped after 1 firings" in log
    stamped = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+: "
    assert all(re.match(stamped, line) for line in log.splitlines() if line), log
    (run,) = get_run_db().list_runs(project="svc")
    assert run["status"]["results"] == {"sum": 42}


def test_monitoring_schedule_fires_the_monitoring_job(project_dir: Path) -> None:
    added = sg("schedule", "add", "drift", "--project", "svc", "--cron", "*/10 * * * *",
               "--monitoring")  # fmt: skip
    assert added.returncode == 0, added.stderr
    fired = sg("schedule", "run", "drift", "--project", "svc")
    assert fired.returncode == 0, fired.stderr
    assert "svc/drift: completed" in fired.stdout
    assert get_run_db().get_schedule("svc", "drift")["last_run"] is not None


def test_a_scheduled_workflow_missing_its_argument_names_it(project_dir: Path) -> None:
    project = load_project(str(project_dir))
    project.set_schedule("wf", "0 3 * * *", workflow="main")
    _make_due("svc", "wf")
    (fired,) = run_due()
    assert fired["state"] == "error"
    assert "needs the argument(s) ['source']" in fired["error"]


def test_a_scheduled_function_missing_its_parameter_names_it(project_dir: Path) -> None:
    project = load_project(str(project_dir))
    project.set_schedule("fn", "0 3 * * *", function="needs-x")
    _make_due("svc", "fn")
    (fired,) = run_due()
    assert fired["state"] == "error"
    assert "needs the argument 'x' (no default)" in fired["error"]


def test_export_cronjob_and_systemd(project_dir: Path, tmp_path: Path) -> None:
    sg("schedule", "add", "nightly", "--project", "svc", "--cron", "30 2 * * 1-5",
       "--workflow", "main", "-a", "source=s3://b/x.csv")  # fmt: skip
    out = sg("schedule", "export", "nightly", "--project", "svc", "--format", "cronjob",
             "--image", "registry/app:1")  # fmt: skip
    assert out.returncode == 0, out.stderr
    job = yaml.safe_load(out.stdout)
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "CronJob")
    assert job["metadata"]["name"] == "servegraph-svc-nightly"
    assert job["spec"]["schedule"] == "30 2 * * 1-5"
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry/app:1"
    assert container["command"] == ["servegraph", "schedule", "run", "nightly", "--project", "svc"]
    assert container["env"] == [
        {"name": k, "value": os.environ[k]} for k in ("SERVEGRAPH_DBPATH",) if k in os.environ
    ]

    units = tmp_path / "units"
    written = sg("schedule", "export", "nightly", "--project", "svc", "--format", "systemd",
                 "--dir", str(units))  # fmt: skip
    assert written.returncode == 0, written.stderr
    timer = (units / "servegraph-svc-nightly.timer").read_text()
    service = (units / "servegraph-svc-nightly.service").read_text()
    assert "OnCalendar=Mon..Fri *-*-* 02:30:00 UTC" in timer
    assert "Type=oneshot" in service and "-m servegraph schedule run nightly" in service
    if shutil.which("systemd-analyze"):
        check = subprocess.run(["systemd-analyze", "calendar", "Mon..Fri *-*-* 02:30:00 UTC"],
                               capture_output=True, text=True, timeout=30)  # fmt: skip
        assert check.returncode == 0, check.stderr
    assert (
        sg("schedule", "export", "nope", "--project", "svc", "--format", "cronjob").returncode == 1
    )


@pytest.mark.parametrize(
    ("cron", "calendar"),
    [
        ("0 2 * * *", "*-*-* 02:00:00"),
        ("*/15 * * * *", "*-*-* *:00/15:00"),
        ("0 0 1 1,7 *", "*-01,07-01 00:00:00"),
        ("5 4 * * 0", "Sun *-*-* 04:05:00"),
    ],
)
def test_cron_to_on_calendar(cron: str, calendar: str) -> None:
    assert on_calendar(cron) == calendar
    if shutil.which("systemd-analyze"):
        check = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True,
                               text=True, timeout=30)  # fmt: skip
        assert check.returncode == 0, check.stderr
