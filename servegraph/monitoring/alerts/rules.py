"""Alert rules: which window condition fires, and where to send it.

A rule watches one kind of condition over an endpoint's window results:
``drift`` (status at or above ``level``, default drift detected),
``error_rate`` (fraction of failed requests above ``threshold``) or
``latency_p99`` (99th percentile latency in ms above ``threshold``) or
``performance`` (the window's ``metric``, e.g. ``accuracy`` or ``auc``, below
``threshold``; ``mae`` / ``rmse`` above it), once labels came in.

>>> rule = AlertRule(name="slow", kind="latency_p99", threshold=250.0)
>>> rule.kind, rule.notify
('latency_p99', ())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from servegraph.errors import MonitoringError
from servegraph.monitoring.drift import DriftStatus
from servegraph.monitoring.performance import degraded
from servegraph.monitoring.results import WindowResult

KINDS = ("drift", "error_rate", "latency_p99", "performance")


@dataclass(frozen=True)
class AlertRule:
    """One rule; ``project``/``endpoint`` None match any; ``notify`` names notifiers (all)."""

    name: str
    kind: str
    threshold: float | None = None
    level: str = DriftStatus.DRIFT_DETECTED.value
    project: str | None = None
    endpoint: str | None = None
    notify: tuple[str, ...] = ()
    cooldown: str | None = None
    metric: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise MonitoringError("The 'name' parameter of AlertRule must be non-empty.")
        if self.kind not in KINDS:
            raise MonitoringError(
                f"The 'kind' parameter of AlertRule must be one of {', '.join(KINDS)}. "
                f"Got {self.kind!r} instead."
            )
        if self.kind != "drift" and (self.threshold is None or self.threshold < 0):
            raise MonitoringError(
                f"The 'threshold' parameter of the {self.kind} AlertRule {self.name!r} must be "
                f"a non-negative number. Got {self.threshold!r} instead."
            )
        if self.kind == "performance" and not self.metric:
            raise MonitoringError(
                f"The performance AlertRule {self.name!r} needs a 'metric' (accuracy, precision, "
                "recall, auc, mae or rmse)."
            )
        if self.level not in {s.value for s in DriftStatus}:
            raise MonitoringError(
                f"The 'level' parameter of AlertRule must be a drift status. Got {self.level!r}."
            )
        if self.cooldown is not None:
            self.cooldown_delta  # noqa: B018 - validates the duration

    @property
    def cooldown_delta(self) -> pd.Timedelta | None:
        if self.cooldown is None:
            return None
        try:
            return pd.Timedelta(self.cooldown)
        except ValueError as exc:
            raise MonitoringError(
                f"The 'cooldown' parameter of AlertRule must be a duration such as '1h'. "
                f"Got {self.cooldown!r} instead."
            ) from exc

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> AlertRule:
        """Build a rule from its YAML/JSON form."""
        spec = dict(spec)
        if "notify" in spec:
            spec["notify"] = tuple(spec["notify"])
        try:
            return cls(**spec)
        except TypeError as exc:
            raise MonitoringError(f"invalid alert rule {spec!r}: {exc}") from exc

    def applies_to(self, project: str, endpoint_id: str) -> bool:
        return (self.project is None or self.project == project) and (
            self.endpoint is None or self.endpoint == endpoint_id
        )

    def value(self, result: WindowResult) -> float | None:
        """The watched quantity in a window (None when the window has none)."""
        if self.kind == "drift":
            return result.drift_value
        if self.kind == "error_rate":
            return result.error_rate if result.requests else None
        if self.kind == "performance":
            return result.performance.get(str(self.metric))
        return result.latency_p99

    def triggered(self, result: WindowResult) -> bool:
        """Whether the window meets the rule's condition."""
        if self.kind == "drift":
            return result.status.severity >= DriftStatus(self.level).severity
        value = self.value(result)
        if value is None or self.threshold is None:
            return False
        if self.kind == "performance":
            return degraded(str(self.metric), value, self.threshold)
        return value > self.threshold
