"""Alerts fire once per episode, through the monitoring job, to every notifier kind."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from servegraph.errors import MonitoringError
from servegraph.monitoring.alerts import AlertEngine, AlertRule
from servegraph.monitoring.alerts.notifiers import FileNotifier, LogNotifier
from servegraph.monitoring.drift import DriftStatus
from servegraph.monitoring.job import MonitoringJob

from ..data import T0, records
from ..test_job import push, register
from .conftest import window

HOUR = dt.timedelta(hours=1)


async def test_each_rule_fires_once_per_episode_across_job_runs(tmp_path: Path) -> None:
    register(project="p")
    sink = tmp_path / "alerts.jsonl"
    engine = AlertEngine(
        [
            AlertRule(name="drift", kind="drift"),
            AlertRule(name="errors", kind="error_rate", threshold=0.05),
            AlertRule(name="slow", kind="latency_p99", threshold=100, project="other"),
        ],
        {"file": FileNotifier(path=sink)},
    )
    # episode 1: drift in hours 11-12 (two job runs), errors from hour 12
    await push(records("ep", 200, start=T0, seed=1))
    await push(records("ep", 200, start=T0 + HOUR, seed=2, shift_b=2.0))
    first = await MonitoringJob(alerts=engine, plots=False).run()
    await push(records("ep", 200, start=T0 + 2 * HOUR, seed=3, shift_b=2.0, error_every=5))
    second = await MonitoringJob(alerts=engine, plots=False).run()
    # recovery, then episode 2
    await push(records("ep", 200, start=T0 + 3 * HOUR, seed=4))
    await push(records("ep", 200, start=T0 + 4 * HOUR, seed=5, shift_b=2.0))
    third = await MonitoringJob(alerts=engine, plots=False).run()
    assert [(a.rule, a.window_start[11:13]) for a in first.alerts] == [("drift", "11")]
    assert [(a.rule, a.window_start[11:13]) for a in second.alerts] == [("errors", "12")]
    assert [(a.rule, a.window_start[11:13]) for a in third.alerts] == [("drift", "14")]
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    assert [(x["rule"], x["project"], x["endpoint_id"]) for x in lines] == [
        ("drift", "p", "ep"),
        ("errors", "p", "ep"),
        ("drift", "p", "ep"),
    ]
    assert lines[1]["value"] == pytest.approx(0.2)


async def test_log_notifier_and_rule_routing(caplog: pytest.LogCaptureFixture) -> None:
    engine = AlertEngine(
        [AlertRule(name="d", kind="drift", notify=("ops",))],
        {"ops": LogNotifier(), "unused": LogNotifier(logger="elsewhere")},
    )
    with caplog.at_level(logging.WARNING, logger="servegraph.alerts"):
        fired = await engine.evaluate("p", window(1, DriftStatus.DRIFT_DETECTED))
    assert len(fired) == 1
    assert [r.name for r in caplog.records] == ["servegraph.alerts"]
    assert "drift alert 'd' on endpoint 'ep'" in caplog.records[0].getMessage()


async def test_a_failing_notifier_does_not_stop_the_others(tmp_path: Path) -> None:
    sink = tmp_path / "ok.jsonl"
    engine = AlertEngine(
        [AlertRule(name="d", kind="drift")],
        {"broken": FileNotifier(path=tmp_path), "ok": FileNotifier(path=sink)},
    )
    fired = await engine.evaluate("p", window(1, DriftStatus.DRIFT_DETECTED))
    assert len(fired) == 1 and len(sink.read_text().splitlines()) == 1


def test_unknown_notifier_is_named() -> None:
    with pytest.raises(MonitoringError, match=r"unknown notifiers \['pager'\]"):
        AlertEngine([AlertRule(name="d", kind="drift", notify=("pager",))], {})
