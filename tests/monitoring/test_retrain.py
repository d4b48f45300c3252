"""A drift episode starts exactly one retraining run, with the window's data as input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from servegraph.errors import MonitoringError
from servegraph.monitoring import retrain
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.monitoring.job import MonitoringJob
from servegraph.monitoring.results import WindowResult
from servegraph.monitoring.retrain import FunctionRetrainer, RetrainTrigger

from . import fake_functions
from .data import FEATURES, T0, records
from .test_job import push, register

HOUR = dt.timedelta(hours=1)


class FakeRetrainer:
    """Records what it was asked to retrain."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, pd.DataFrame, pd.Timestamp]] = []

    def retrain(self, endpoint: ModelEndpoint, dataset: str, reason: WindowResult) -> str:
        self.calls.append((endpoint.id, pd.read_parquet(dataset), reason.window_start))
        return f"run-{len(self.calls)}"


async def test_one_run_per_drift_episode_with_the_window_data() -> None:
    register(project="p")
    retrainer = FakeRetrainer()
    trigger = RetrainTrigger(retrainer)
    await push(records("ep", 100, start=T0, seed=1))
    await push(records("ep", 100, start=T0 + HOUR, seed=2, shift_b=2.0))
    await push(records("ep", 100, start=T0 + 2 * HOUR, seed=3, shift_b=2.0))
    first = await MonitoringJob(retrain=trigger, plots=False).run()
    await push(records("ep", 100, start=T0 + 3 * HOUR, seed=4))
    await push(records("ep", 100, start=T0 + 4 * HOUR, seed=5, shift_b=2.0))
    second = await MonitoringJob(retrain=trigger, plots=False).run()
    assert first.retrain_runs == ["run-1"] and second.retrain_runs == ["run-2"]
    (endpoint, data, start), _ = retrainer.calls
    assert endpoint == "ep" and start == pd.Timestamp(T0 + HOUR)
    assert len(data) == 200 and set(FEATURES) <= set(data.columns) and "output" in data
    assert data["b"].mean() == pytest.approx(2.0, abs=0.3)


@pytest.fixture
def fake_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    monkeypatch.setattr(retrain, "FACTORY", "tests.monitoring.fake_functions")
    fake_functions.RUNS.clear()
    yield fake_functions.RUNS
    fake_functions.RUNS.clear()


async def test_function_retrainer_runs_the_training_code(
    fake_factory: list[dict[str, object]],
) -> None:
    register(project="churn")
    trigger = RetrainTrigger(
        FunctionRetrainer(filename="train.py", handler="fit", params={"epochs": 3})
    )
    await push(records("ep", 100, start=T0, seed=2, shift_b=2.0))
    report = await MonitoringJob(retrain=trigger, plots=False).run()
    assert report.retrain_runs == ["run-1"]
    (run,) = fake_factory
    assert run["filename"] == "train.py" and run["handler"] == "fit" and run["kind"] == "job"
    assert run["project"] == "churn"
    assert run["params"] == {"epochs": 3, "endpoint_id": "ep", "drift_window": T0.isoformat()}
    dataset = run["inputs"]["dataset"]  # type: ignore[index]
    assert len(pd.read_parquet(dataset)) == 200


def test_a_missing_runs_layer_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retrain, "FACTORY", "servegraph.no_such_module")
    start = pd.Timestamp(T0)
    result = WindowResult(
        "ep", start, start, 1, 1, 0, None, retrain.DriftStatus.DRIFT_DETECTED, 1.0
    )
    with pytest.raises(MonitoringError, match="code_to_function, which is not available"):
        FunctionRetrainer(filename="t.py").retrain(ModelEndpoint(id="ep"), "d.parquet", result)


TRAIN = """
def train(context, dataset, endpoint_id=""):
    df = dataset.as_df()
    context.log_result("rows", len(df))
    context.log_result("endpoint", endpoint_id)
    context.log_model("model", body=b"weights", model_file="model.bin",
                      training_set=df[["a", "b", "c", "output"]], label_column="output")
"""


async def test_drift_episode_records_a_retraining_run_in_the_run_db(tmp_path: Path) -> None:
    from servegraph.storage.rundb import get_run_db

    code = tmp_path / "train.py"
    code.write_text(TRAIN)
    register(project="churn")
    trigger = RetrainTrigger(FunctionRetrainer(filename=str(code), handler="train"))
    await push(records("ep", 100, start=T0, seed=2, shift_b=2.0))
    report = await MonitoringJob(retrain=trigger, plots=False).run()
    (uid,) = report.retrain_runs
    db = get_run_db()
    run = db.read_run(uid, project="churn")
    assert run["status"]["state"] == "completed"
    assert run["status"]["results"]["rows"] == 200
    assert run["status"]["results"]["endpoint"] == "ep"
    assert run["spec"]["inputs"]["dataset"].endswith(".parquet")
    # the new model carries its training set's statistics: register the next endpoint from it
    new = EndpointRegistry().register(
        ModelEndpoint(id="ep-v2", project="churn", model_uri="store://models/churn/model")
    )
    assert new.feature_names == ["a", "b", "c"]
    assert new.reference_stats["b"]["mean"] == pytest.approx(2.0, abs=0.3)
    db.close()


async def test_a_retrainer_that_cannot_start_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retrain, "FACTORY", "servegraph.no_such_module")
    register()
    await push(records("ep", 50, start=T0, seed=2, shift_b=2.0))
    trigger = RetrainTrigger(FunctionRetrainer(filename="train.py"))
    report = await MonitoringJob(retrain=trigger, plots=False).run()
    assert report.drifted and report.retrain_runs == []
    assert report.errors and "could not start" in report.errors[0]
