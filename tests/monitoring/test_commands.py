"""``servegraph monitor``: run, show, schedule validation, and a real SIGKILL mid-run.

The tests call the sub-command's own ``main`` (servegraph.cli cannot build its parser
until every sub-command module it lists exists)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from servegraph.monitoring.commands import main
from servegraph.monitoring.job import MonitoringJob
from servegraph.monitoring.results import ResultStore

from .data import T0, records
from .test_job import HOUR, push, register, three_windows


async def test_run_then_show(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    register()
    await push(three_windows())
    assert await asyncio.to_thread(main, ["--window", "1h", "--no-plots"]) == 0
    assert "read 1200 records" in capsys.readouterr().out
    assert main(["--show"]) == 0
    out = capsys.readouterr().out
    assert "ep" in out and "drift_detected" in out and "2026-03-01T12:00:00Z" in out
    assert main(["--show", "--endpoint", "ep"]) == 0
    assert capsys.readouterr().out.count("2026-03-01T1") == 3


def test_bad_schedule_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--schedule", "whenever"]) == 1
    assert "'schedule' parameter" in capsys.readouterr().err


async def test_sigkill_mid_run_then_resume_counts_every_record_once(
    servegraph_home: Path,
) -> None:
    register()
    items = [
        *records("ep", 300, start=T0, seed=1),
        *records("ep", 300, start=T0 + HOUR, seed=2, shift_b=1.5),
    ]
    await push(items)
    group_file = servegraph_home / "streams" / "model-endpoints" / "groups" / "monitoring.json"
    env = {**os.environ, "SERVEGRAPH_HOME": str(servegraph_home)}
    cmd = [
        sys.executable,
        "-m",
        "servegraph.monitoring.commands",
        "--batch-size",
        "1",
        "--no-plots",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=Path(__file__).parents[2])
    try:
        for _ in range(3000):  # wait (no timing assertion) until a few batches are acked
            if group_file.exists() and json.loads(group_file.read_text())["committed"] >= 20:
                break
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # it was killed mid-run, not finished
    committed = json.loads(group_file.read_text())["committed"]
    assert 20 <= committed < 600
    resumed = await MonitoringJob(plots=False).run()
    assert resumed.records <= 600 - committed + 1  # at most the batch in flight is re-read
    windows = ResultStore().windows("ep")
    assert windows["requests"].tolist() == [300, 300]
    assert windows["rows"].tolist() == [600, 600]
    assert windows["status"].tolist() == ["no_drift", "drift_detected"]
