"""The run context: the API, the record shape of the seed example, creation paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from servegraph.errors import RunError
from servegraph.functions.context import (
    EXEC_CONFIG_ENV,
    RunContext,
    build_context,
    get_or_create_ctx,
    reset_current,
    set_current,
)
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
