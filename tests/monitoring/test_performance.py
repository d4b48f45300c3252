"""Labels by request id joined to logged predictions: per-window performance and its alert."""

from __future__ import annotations

import doctest

import pytest

import servegraph.monitoring.labels as labels_module
import servegraph.monitoring.performance as performance_module
from servegraph.monitoring.alerts import AlertEngine, AlertRule, notifier_from_spec
from servegraph.monitoring.job import MonitoringJob
from servegraph.monitoring.labels import label_records, labels_stream_url, prediction
from servegraph.monitoring.performance import compute_performance, list_performance
from servegraph.monitoring.retrain import RetrainTrigger
from servegraph.monitoring.tracking import default_stream_url

from .data import T0, records
from .test_job import push, register
from .test_retrain import FakeRetrainer


def test_doctests() -> None:
    for module in (labels_module, performance_module):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(
    ("labels", "outputs", "expected"),
    [
        ([0, 1, 1, 0], [0, 1, 0, 0], {"accuracy": 0.75, "precision": 1.0, "recall": 0.5}),
        (["a", "b", "b"], ["a", "b", "a"], {"accuracy": 2 / 3, "precision": 0.75, "recall": 0.75}),
        ([0, 1], [0.2, 0.9], {"accuracy": 1.0, "precision": 1.0, "recall": 1.0, "auc": 1.0}),
        ([1.5, 3.0], [1.0, 3.0], {"mae": 0.25, "rmse": pytest.approx(0.3535534)}),
    ],
)
def test_metrics_by_kind_of_model(labels: list, outputs: list, expected: dict) -> None:  # type: ignore[type-arg]
    assert compute_performance(labels, outputs) == pytest.approx(expected)


async def _labelled_traffic(good: bool) -> list[dict]:  # type: ignore[type-arg]
    register(project="shop")
    sent = records("ep", 50, start=T0, seed=1, rows_per_request=1)
    for i, record in enumerate(sent):
        record["outputs"] = [i % 2]
    await push(sent)
    return sent


async def test_labels_arriving_later_score_the_window_again() -> None:
    sent = await _labelled_traffic(True)
    first = await MonitoringJob(plots=False).run()
    assert first.windows[0].performance == {} and list_performance() == []
    assert prediction("ep-1-3") is not None and prediction("ep-1-3")["endpoint_id"] == "ep"
    # ground truth for 40 of the 50 requests: 30 right, 10 wrong
    truth = {r["request_id"]: r["outputs"][0] for r in sent[:30]}
    truth.update({r["request_id"]: 1 - r["outputs"][0] for r in sent[30:40]})
    await push(label_records(truth), labels_stream_url(default_stream_url()))
    second = await MonitoringJob(plots=False).run()
    assert second.labels == 40 and len(second.windows) == 1
    assert second.windows[0].performance["accuracy"] == pytest.approx(0.75)
    (stored,) = list_performance("ep")
    assert stored["labelled"] == 40 and stored["model_version"] == "1"
    assert stored["metrics"]["accuracy"] == pytest.approx(0.75)


async def test_degraded_performance_alerts_and_retraining_gets_the_labels() -> None:
    sent = await _labelled_traffic(False)
    truth = {r["request_id"]: 1 - r["outputs"][0] for r in sent}  # every prediction wrong
    await push(label_records(truth), labels_stream_url(default_stream_url()))
    rule = AlertRule(name="acc", kind="performance", metric="accuracy", threshold=0.9)
    engine = AlertEngine([rule], {"log": notifier_from_spec("log")})
    retrainer = FakeRetrainer()
    trigger = RetrainTrigger(retrainer, level="no_drift")  # retrain every window
    report = await MonitoringJob(plots=False, alerts=engine, retrain=trigger).run()
    (alert,) = report.alerts
    assert alert.kind == "performance" and alert.value == 0.0
    ((_, data, _),) = retrainer.calls
    assert "label" in data.columns and len(data) == 50
    assert (data["label"] != data["output"]).all()


def test_a_performance_rule_needs_a_metric() -> None:
    from servegraph.errors import MonitoringError

    with pytest.raises(MonitoringError, match="needs a 'metric'"):
        AlertRule(name="x", kind="performance", threshold=0.5)
