from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.errors import ConfigError, MonitoringError
from servegraph.monitoring.alerts.notifiers import WebhookNotifier
from servegraph.monitoring.settings import MonitorSettings

YAML = """
window: 10min
batch_size: 50
thresholds: {metric: tvd, possible: 0.1, detected: 0.2}
notifiers:
  hook: {webhook: {url: "http://127.0.0.1:9/alerts"}}
alerts:
  - {name: drift, kind: drift, notify: [hook]}
  - {name: slow, kind: latency_p99, threshold: 250, cooldown: 1h}
retrain: {filename: train.py, handler: train}
"""


def test_project_file_builds_the_job(servegraph_home: Path) -> None:
    (servegraph_home / "monitoring").mkdir()
    (servegraph_home / "monitoring" / "churn.yaml").write_text(YAML)
    job = MonitorSettings.load(project="churn").job(project="churn", batch_size=7)
    assert job.window.total_seconds() == 600 and job.batch_size == 7
    assert job.thresholds.metric == "tvd" and job.project == "churn"
    assert job.alerts is not None and [r.name for r in job.alerts.rules] == ["drift", "slow"]
    assert isinstance(job.alerts.notifiers["hook"], WebhookNotifier)
    assert job.retrain is not None


def test_defaults_without_a_file() -> None:
    job = MonitorSettings.load(project="nothing").job()
    assert job.alerts is None and job.retrain is None and job.batch_size == 1000


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("colour: red", ConfigError, "Unknown monitoring settings"),
        ("thresholds: {metric: nope}", MonitoringError, "'metric' parameter"),
        ("thresholds: {bins: 3}", ConfigError, "invalid monitoring thresholds"),
        ("- a list", ConfigError, "must be a mapping"),
        ("window: [", ConfigError, "cannot read"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, text: str, error: type[Exception], match: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(error, match=match):
        MonitorSettings.load(path)
