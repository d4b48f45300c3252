"""Per-project monitoring settings, from YAML, and the job they describe.

``$SERVEGRAPH_HOME/monitoring/<project>.yaml`` (``default.yaml`` without a
project), or a file given with ``--config``::

    window: 1h                # time window of drift results
    batch_size: 1000          # records read per batch
    stream_path: redis://127.0.0.1:6379/model-endpoints
    thresholds: {metric: hellinger, possible: 0.15, detected: 0.3}
    notifiers:
      ops: log
      hook: {webhook: {url: "https://hooks.example/alerts"}}
      archive: {file: {path: /var/log/servegraph-alerts.jsonl}}
    alerts:
      - {name: drift, kind: drift, notify: [hook, ops]}
      - {name: errors, kind: error_rate, threshold: 0.05}
      - {name: slow, kind: latency_p99, threshold: 250, cooldown: 1h}
    retrain:
      filename: train.py
      handler: train
      params: {epochs: 3}
      promote: canary          # manual | canary | auto (see monitoring.rollout)
      canary_weight: 10        # percent of the traffic the canary gets
      min_requests: 200        # canary requests before the server decides
      min_metric: {auc: 0.8}   # holdout metrics the new model must reach

>>> MonitorSettings.from_dict({"window": "10min"}).window
'10min'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from servegraph.config import get_config
from servegraph.errors import ConfigError, MonitoringError
from servegraph.monitoring.alerts import AlertEngine, AlertRule, notifier_from_spec
from servegraph.monitoring.drift import DriftThresholds
from servegraph.monitoring.job import MonitoringJob
from servegraph.monitoring.retrain import FunctionRetrainer, RetrainTrigger
from servegraph.monitoring.rollout import RolloutPolicy
from servegraph.names import check_name

_POLICY_KEYS = (
    "promote", "canary_weight", "min_requests", "latency_tolerance", "min_metric", "tag",
)  # fmt: skip
_KEYS = {"window", "batch_size", "stream_path", "thresholds", "notifiers", "alerts", "retrain"}


@dataclass
class MonitorSettings:
    """Everything a monitoring job of a project is configured with."""

    window: str = "1h"
    batch_size: int = 1000
    stream_path: str | None = None
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)
    notifiers: dict[str, Any] = field(default_factory=dict)
    alerts: list[AlertRule] = field(default_factory=list)
    retrain: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> MonitorSettings:
        """Build settings from their YAML form; unknown keys are errors."""
        unknown = set(spec) - _KEYS
        if unknown:
            raise ConfigError(
                f"Unknown monitoring settings {sorted(unknown)}; known: {sorted(_KEYS)}."
            )
        try:
            thresholds = DriftThresholds(**(spec.get("thresholds") or {}))
        except TypeError as exc:
            raise ConfigError(f"invalid monitoring thresholds: {exc}") from exc
        return cls(
            window=str(spec.get("window", "1h")),
            batch_size=int(spec.get("batch_size", 1000)),
            stream_path=spec.get("stream_path"),
            thresholds=thresholds,
            notifiers=dict(spec.get("notifiers") or {}),
            alerts=[AlertRule.from_dict(a) for a in spec.get("alerts") or []],
            retrain=spec.get("retrain"),
        )

    @classmethod
    def load(cls, path: str | Path | None = None, project: str | None = None) -> MonitorSettings:
        """Read ``path``, else the project's settings file if it exists, else defaults."""
        if path is None:
            name = check_name("project", project or "default")
            default = get_config().home / "monitoring" / f"{name}.yaml"
            if not default.exists():
                return cls()
            path = default
        try:
            spec = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read monitoring settings {path}: {exc}") from exc
        if not isinstance(spec, dict):
            raise ConfigError(f"monitoring settings {path} must be a mapping")
        return cls.from_dict(spec)

    def job(
        self, *, project: str | None = None, endpoint: str | None = None, **options: Any
    ) -> MonitoringJob:
        """The monitoring job these settings describe (``options`` override)."""
        alerts = None
        if self.alerts:
            notifiers = {n: notifier_from_spec(s) for n, s in self.notifiers.items()}
            if not notifiers:
                notifiers = {"log": notifier_from_spec("log")}
            alerts = AlertEngine(self.alerts, notifiers)
        retrain = None
        if self.retrain:
            spec = dict(self.retrain)
            policy_spec = {k: spec.pop(k) for k in _POLICY_KEYS if k in spec}
            try:
                policy = RolloutPolicy(**policy_spec) if policy_spec else None
                retrain = RetrainTrigger(FunctionRetrainer(**spec), policy=policy)
            except TypeError as exc:
                raise MonitoringError(f"invalid retrain settings {self.retrain!r}: {exc}") from exc
        settings: dict[str, Any] = {
            "stream_path": self.stream_path,
            "window": self.window,
            "thresholds": self.thresholds,
            "batch_size": self.batch_size,
            "alerts": alerts,
            "retrain": retrain,
        }
        settings.update({k: v for k, v in options.items() if v is not None})
        return MonitoringJob(project=project, endpoint=endpoint, **settings)
