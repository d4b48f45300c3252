"""The shipped hub functions run on real data (in-process, kind local)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_iris

from servegraph.functions.base import Function
from servegraph.functions.factory import import_function
from servegraph.storage.dataitem import get_dataitem


@pytest.fixture
def iris_csv(tmp_path: Path) -> str:
    df = load_iris(as_frame=True).frame.rename(columns={"target": "label"})
    path = tmp_path / "iris.csv"
    df.to_csv(path, index=False)
    return str(path)


def _local(fn: Function) -> Function:
    return Function.from_dict({**fn.to_dict(), "kind": "local"})


def test_describe(iris_csv: str) -> None:
    fn = _local(import_function("hub://describe"))
    run = fn.run(inputs={"table": iris_csv}, params={"label_column": "label"}, watch=False)
    assert run.state() == "completed", run.error
    assert run.outputs["rows"] == 150 and run.outputs["columns"] == 5
    assert run.outputs["label_counts"] == {"0": 50, "1": 50, "2": 50}
    assert run.artifact("histograms").get()[:4] == b"\x89PNG"
    assert "sepal length (cm)" in run.artifact("stats").get(encoding="utf-8")


def test_sklearn_trainer_logs_metrics_and_a_usable_model(iris_csv: str) -> None:
    fn = _local(import_function("hub://sklearn-trainer", project="iris"))
    run = fn.run(
        inputs={"dataset": iris_csv},
        params={"model_params": {"n_estimators": 10, "random_state": 0}},
        watch=False,
    )
    assert run.state() == "completed", run.error
    assert run.outputs["accuracy"] > 0.8
    model_item = get_dataitem("store://models/iris/model")
    spec = model_item.artifact["spec"]  # type: ignore[index]
    assert spec["label_column"] == "label" and "petal width (cm)" in spec["feature_stats"]
    model = pickle.loads(model_item.get())
    features = pd.read_csv(iris_csv).drop(columns=["label"]).head(3)
    assert len(model.predict(features)) == 3


@pytest.mark.parametrize(
    ("hub", "input_key", "params", "message"),
    [
        ("describe", "table", {"label_column": "nope"}, "RunError: The 'label_column' 'nope'"),
        ("sklearn-trainer", "dataset", {"label_column": "nope"}, "RunError: The 'label_column'"),
        ("sklearn-trainer", "dataset", {"model_class": "Forest"}, "RunError: The 'model_class'"),
        ("sklearn-trainer", "dataset", {"model_class": "sklearn.nope.X"}, "'sklearn.nope.X'"),
    ],
)
def test_hub_functions_name_the_bad_parameter(
    iris_csv: str, hub: str, input_key: str, params: dict[str, str], message: str
) -> None:
    run = _local(import_function(f"hub://{hub}")).run(
        inputs={input_key: iris_csv}, params=params, watch=False
    )
    assert run.state() == "error" and message in (run.error or "")
