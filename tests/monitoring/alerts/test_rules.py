from __future__ import annotations

import pytest

from servegraph.errors import MonitoringError
from servegraph.monitoring.alerts.rules import AlertRule
from servegraph.monitoring.drift import DriftStatus

from .conftest import window


def test_drift_rule_by_level() -> None:
    detected = AlertRule(name="d", kind="drift")
    possible = AlertRule(name="d", kind="drift", level="possible_drift")
    assert detected.triggered(window(1, DriftStatus.DRIFT_DETECTED))
    assert not detected.triggered(window(1, DriftStatus.POSSIBLE_DRIFT))
    assert possible.triggered(window(1, DriftStatus.POSSIBLE_DRIFT))
    assert not possible.triggered(window(1))


def test_error_rate_and_latency_rules() -> None:
    errors = AlertRule(name="e", kind="error_rate", threshold=0.05)
    assert errors.triggered(window(1, errors=6)) and errors.value(window(1, errors=6)) == 0.06
    assert not errors.triggered(window(1, errors=5))
    assert not errors.triggered(window(1, requests=0))
    slow = AlertRule(name="s", kind="latency_p99", threshold=100)
    assert slow.triggered(window(1, p99=101.0))
    assert not slow.triggered(window(1, p99=None))


def test_scope_by_project_and_endpoint() -> None:
    rule = AlertRule(name="r", kind="drift", project="p1", endpoint="ep")
    assert rule.applies_to("p1", "ep")
    assert not rule.applies_to("p2", "ep") and not rule.applies_to("p1", "other")


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"name": "", "kind": "drift"}, "'name'"),
        ({"name": "x", "kind": "cpu"}, "'kind' parameter"),
        ({"name": "x", "kind": "error_rate"}, "'threshold' parameter"),
        ({"name": "x", "kind": "drift", "level": "bad"}, "'level' parameter"),
        ({"name": "x", "kind": "drift", "cooldown": "soon"}, "'cooldown' parameter"),
        ({"name": "x", "kind": "drift", "colour": "red"}, "invalid alert rule"),
    ],
)
def test_bad_rules_are_named(spec: dict[str, object], match: str) -> None:
    with pytest.raises(MonitoringError, match=match):
        AlertRule.from_dict(spec)
