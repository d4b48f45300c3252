"""Alerts: rules over window results, notifiers, and once-per-episode firing."""

from __future__ import annotations

from servegraph.monitoring.alerts.engine import Alert, AlertEngine
from servegraph.monitoring.alerts.notifiers import NOTIFIERS, notifier_from_spec
from servegraph.monitoring.alerts.rules import AlertRule

__all__ = ["NOTIFIERS", "Alert", "AlertEngine", "AlertRule", "notifier_from_spec"]
