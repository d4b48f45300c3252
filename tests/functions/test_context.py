"""The run context: the API, the record shape of the seed example, creation paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from servegraph.errors import RunError
from servegraph.featurestore.stats import compute_stats
from servegraph.functions.context import (
    EXEC_CONFIG_ENV,
    RunContext,
    build_context,
    get_or_create_ctx,
    reset_current,
    set_current,
)
from servegraph.storage.dataitem import get_dataitem
from servegraph.storage.rundb import get_run_db

SEED_FIELDS = {
    "metadata": {"name", "uid", "project", "tag", "labels", "annotations"},
    "spec": {
        "runtime", "parameters", "input_objects", "data_stores", "output_artifacts",
        "default_output_path",
    },
    "status": {"state", "outputs", "metrics", "start_time", "last_update", "output_artifacts"},
}  # fmt: skip
NEW_FIELDS = {
    "spec": {"inputs", "handler", "output_path", "secret_sources"},
    "status": {"results", "artifacts", "error"},
}


def _seed_run(ctx: RunContext, infile: str) -> None:
    p1 = ctx.get_param("p1", 1)
    ctx.get_param("p2", "a-string")
    assert ctx.get_object("infile.txt", infile).get() == b"data"
    ctx.log_output("accuracy", p1 * 2)
    for i in range(1, 4):
        ctx.log_metric("loss", 2 * i, i)
    ctx.log_artifact("test.txt", body=b"abc is 123")
    ctx.commit("aa")


def test_record_has_the_seed_shape_and_the_newer_fields(tmp_path: Path) -> None:
    infile = tmp_path / "infile.txt"
    infile.write_bytes(b"data")
    ctx = get_or_create_ctx("mytask", spec={"spec": {"parameters": {"p1": 6}}})
    _seed_run(ctx, str(infile))
    record = yaml.safe_load(ctx.to_yaml())
    assert list(record) == ["metadata", "spec", "status"]
    for section in ("metadata", "spec", "status"):
        assert SEED_FIELDS[section] | NEW_FIELDS.get(section, set()) <= set(record[section])
    assert record["metadata"]["name"] == "mytask" and len(record["metadata"]["uid"]) == 32
    assert {"owner", "workflow"} <= set(record["metadata"]["labels"])
    assert record["spec"]["parameters"] == {"p1": 6, "p2": "a-string"}
    assert record["spec"]["input_objects"] == [{"key": "infile.txt", "path": str(infile)}]
    assert record["status"]["state"] == "running"  # commit() alone does not end the run
    assert record["status"]["outputs"] == {"accuracy": 12} == record["status"]["results"]
    assert record["status"]["metrics"]["loss"] == {
        "labels": {},
        "xvalues": ["1", "2", "3"],
        "yvalues": [2, 4, 6],
    }
    assert record["status"]["output_artifacts"][0]["key"] == "test.txt"
    assert record["status"]["commit"] == "aa"
    stored = get_run_db().read_run(ctx.uid, ctx.project)
    assert stored["status"]["results"] == {"accuracy": 12}


def test_results_convert_numpy_and_reject_objects() -> None:
    ctx = build_context("t")
    ctx.log_results({"a": np.float64(0.5), "b": np.int64(3), "c": np.array([1, 2])})
    assert ctx.results == {"a": 0.5, "b": 3, "c": [1, 2]}
    json.dumps(ctx.to_dict())
    with pytest.raises(RunError, match="'bad'"):
        ctx.log_result("bad", object())


def test_labels_annotations_and_states() -> None:
    ctx = build_context("t")
    ctx.set_label("team", "ml")
    ctx.set_annotation("note", "x")
    assert ctx.labels["team"] == "ml" and ctx.to_dict()["metadata"]["annotations"] == {"note": "x"}
    ctx.set_state("error", "it broke")
    assert ctx.to_dict()["status"]["error"] == "it broke"
    with pytest.raises(RunError, match="'weird'"):
        ctx.set_state("weird")


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
    with pytest.raises(RunError, match="'a/b'"):
        ctx.log_artifact("a/b", body="x")


def test_context_from_event_body_keeps_secrets_out_of_the_record() -> None:
    class Event:
        body = json.dumps(
            {"metadata": {"uid": "abc", "name": "remote"}, "spec": {"parameters": {"p1": 3}},
             "secrets": {"ACCESS_KEY": "v3ry-s3cret"}}
        ).encode()  # fmt: skip

    token = set_current(None)
    try:
        ctx = get_or_create_ctx("ignored", event=Event())
    finally:
        reset_current(token)
    assert ctx.uid == "abc" and ctx.name == "remote" and ctx.get_param("p1") == 3
    assert ctx.get_secret("ACCESS_KEY") == "v3ry-s3cret"
    assert ctx.state == "running"
    assert "v3ry-s3cret" not in ctx.to_yaml()


def test_context_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXEC_CONFIG_ENV, json.dumps({"spec": {"parameters": {"p1": 9}}}))
    token = set_current(None)
    try:
        ctx = get_or_create_ctx("envtask")
        assert get_or_create_ctx("again") is ctx  # the current context is returned
        fresh = get_or_create_ctx("fresh", with_env=False, spec={})
    finally:
        reset_current(token)
    assert ctx.get_param("p1") == 9 and ctx.name == "envtask"
    assert fresh.get_param("p1") is None


def test_output_path_defaults_under_the_artifact_path(servegraph_home: Path) -> None:
    ctx = build_context("t", {"metadata": {"project": "p"}})
    assert ctx.out_path == str(servegraph_home / "artifacts" / "p" / ctx.uid)
