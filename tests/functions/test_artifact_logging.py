"""Artifact, model and dataset logging of the run context (the log_* mixin)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from servegraph.errors import InvalidNameError, RunError
from servegraph.featurestore.stats import compute_stats
from servegraph.functions.context import build_context
from servegraph.storage.dataitem import get_dataitem
from servegraph.storage.rundb import get_run_db


def test_log_model_stores_reference_statistics_of_the_training_set() -> None:
    ctx = build_context("train", {"metadata": {"project": "churn"}})
    df = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 4.0], "f2": ["a", "b", "a", "a"], "y": [0, 1, 0, 1]})
    record = ctx.log_model(
        "clf", body=b"model-bytes", model_file="clf.pkl", metrics={"accuracy": 0.9},
        framework="sklearn", training_set=df, label_column="y",
    )  # fmt: skip
    assert record["kind"] == "model" and record["uri"] == "store://models/churn/clf:latest"
    assert record["spec"]["feature_stats"] == compute_stats(df)
    assert record["spec"]["label_column"] == "y"
    assert [i["name"] for i in record["spec"]["inputs"]] == ["f1", "f2"]
    assert record["spec"]["metrics"] == {"accuracy": 0.9}
    stored = get_run_db().read_artifact("clf", project="churn")
    assert stored["spec"]["feature_stats"]["f1"]["mean"] == 2.5
    assert get_dataitem("store://models/churn/clf").get() == b"model-bytes"
    with pytest.raises(RunError, match="label_column"):
        ctx.log_model("m2", body=b"x", training_set=df, label_column="nope")


def test_log_model_pickles_objects_and_reads_model_files(tmp_path: Path) -> None:
    ctx = build_context("train")
    record = ctx.log_model("obj", body={"weights": [1, 2]})
    assert record["spec"]["model_file"] == "obj.pkl"
    (tmp_path / "m.onnx").write_bytes(b"onnx")
    record = ctx.log_model("file", model_file=str(tmp_path / "m.onnx"))
    assert get_dataitem(record["spec"]["target_path"]).get() == b"onnx"


def test_log_dataset_with_stats_and_preview() -> None:
    ctx = build_context("prep")
    df = pd.DataFrame({"x": [1, 2, 3], "when": pd.to_datetime(["2026-01-01"] * 3)})
    record = ctx.log_dataset("data", df)
    assert record["uri"].startswith("store://datasets/default/data")
    assert record["spec"]["length"] == 3 and record["spec"]["header"] == ["x", "when"]
    assert record["spec"]["stats"]["x"]["max"] == 3.0
    pd.testing.assert_frame_equal(get_dataitem("store://datasets/default/data").as_df(), df)
    assert ctx.log_dataset("csv", df[["x"]], format="csv")["spec"]["format"] == "csv"
    with pytest.raises(RunError, match="'xlsx'"):
        ctx.log_dataset("bad", df, format="xlsx")


def test_log_artifact_from_local_path_and_bad_keys(tmp_path: Path) -> None:
    src = tmp_path / "plot.html"
    src.write_text("<html/>")
    ctx = build_context("t")
    record = ctx.log_artifact("plot", local_path=str(src), labels={"kind": "chart"})
    assert record["spec"]["src_path"] == str(src)
    assert record["spec"]["target_path"].startswith(ctx.out_path)
    assert record["spec"]["target_path"].endswith("plot.html")
    with pytest.raises(RunError, match="neither"):
        ctx.log_artifact("x")
    with pytest.raises(InvalidNameError, match="'a/b'"):
        ctx.log_artifact("a/b", body="x")
