"""Evaluate alert rules on window results and deliver alerts to notifiers, once per episode.

>>> engine = AlertEngine([AlertRule(name="drift", kind="drift")],
...                      {"log": LogNotifier()})                          # doctest: +SKIP
>>> await engine.evaluate("churn", window_result)                        # doctest: +SKIP
[Alert(rule='drift', endpoint_id='churn.v1', ...)]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from servegraph.errors import MonitoringError
from servegraph.monitoring.alerts.notifiers.base import Notifier
from servegraph.monitoring.alerts.rules import AlertRule
from servegraph.monitoring.alerts.state import EpisodeState
from servegraph.monitoring.results import WindowResult, iso

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """A rule that fired for an endpoint window."""

    rule: str
    kind: str
    project: str
    endpoint_id: str
    window_start: str
    value: float | None
    threshold: float | None
    status: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AlertEngine:
    """Rules, the notifiers they send to (by name), and the episode state."""

    def __init__(
        self,
        rules: Sequence[AlertRule],
        notifiers: Mapping[str, Notifier],
        dbpath: str | None = None,
    ) -> None:
        for rule in rules:
            unknown = [n for n in rule.notify if n not in notifiers]
            if unknown:
                raise MonitoringError(
                    f"The alert rule {rule.name!r} notifies unknown notifiers {unknown}; "
                    f"known: {sorted(notifiers)}."
                )
        self.rules = list(rules)
        self.notifiers = dict(notifiers)
        self.state = EpisodeState(dbpath)

    async def evaluate(self, project: str, result: WindowResult) -> list[Alert]:
        """Check every rule on one window; notify and return the alerts that fired."""
        fired = []
        for rule in self.rules:
            if not rule.applies_to(project, result.endpoint_id):
                continue
            triggered = rule.triggered(result)
            key = (project, rule.name, result.endpoint_id)
            if not self.state.update(key, result.window_start, triggered, rule.cooldown_delta):
                continue
            value = rule.value(result)
            alert = Alert(
                rule=rule.name,
                kind=rule.kind,
                project=project,
                endpoint_id=result.endpoint_id,
                window_start=iso(result.window_start),
                value=value,
                threshold=rule.threshold,
                status=result.status.value,
                message=(
                    f"{rule.kind} alert {rule.name!r} on endpoint {result.endpoint_id!r} "
                    f"for the window starting {iso(result.window_start)}: value {value}"
                ),
            )
            for name in rule.notify or tuple(self.notifiers):
                try:
                    await self.notifiers[name].notify(alert)
                except MonitoringError:
                    logger.exception("notifier %r could not deliver %s", name, alert.message)
            fired.append(alert)
        return fired
