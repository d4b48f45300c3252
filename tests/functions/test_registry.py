"""The model registry (versions, tags, history), its CLI, and lineage."""

from __future__ import annotations

import json
from typing import Any

import pytest

import servegraph as sg
from servegraph.cli import main
from servegraph.errors import DataItemError, NotFoundInStoreError, RunError
from servegraph.functions.context import build_context
from servegraph.functions.registry import model_events


def _train(version: str, auc: float) -> dict[str, Any]:
    run = {"metadata": {"project": "shop", "name": "train"}, "spec": {"parameters": {"lr": 0.1}}}
    ctx = build_context("train", run)
    ctx.log_model("fraud", body=f"w{version}".encode(), metrics={"auc": auc}, tag=version)
    ctx.commit(completed=True)
    return {"uid": ctx.uid}


def test_versions_tags_and_promotion_history(capsys: pytest.CaptureFixture[str]) -> None:
    _train("v1", 0.81)
    _train("v2", 0.88)
    project = sg.get_or_create_project("shop", save=False)
    versions = project.list_models("fraud")
    assert [v["metadata"]["tags"] for v in versions] == [["latest", "v2"], ["v1"]]
    v1 = sg.get_model("store://models/shop/fraud:v1")
    assert v1["spec"]["metrics"] == {"auc": 0.81}
    pinned = sg.get_model(f"store://models/shop/fraud@{v1['metadata']['hash']}")
    assert pinned["metadata"]["hash"] == v1["metadata"]["hash"]

    project.tag_model("fraud:v1", "production", by="alice")
    assert sg.get_model("store://models/shop/fraud:production")["spec"]["metrics"]["auc"] == 0.81
    assert main(["promote", "store://models/shop/fraud:v2", "--tag", "production"]) == 0
    assert "fraud:production -> version" in capsys.readouterr().out
    assert sg.get_model("store://models/shop/fraud:production")["spec"]["metrics"]["auc"] == 0.88
    history = model_events("shop", "fraud")
    assert [(e["action"], e["tag"], e["by"]) for e in history] == [
        ("tagged", "production", "cli"),
        ("tagged", "production", "alice"),
    ]
    # the tag moved: v1 keeps only its own tag
    assert sg.get_model("store://models/shop/fraud:v1")["metadata"]["tags"] == ["v1"]

    assert main(["get", "models", "fraud", "--project", "shop", "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["metadata"]["tags"], r["spec"]["metrics"]) for r in rows] == [
        (["latest", "production", "v2"], {"auc": 0.88}),
        (["v1"], {"auc": 0.81}),
    ]
    assert all(r["spec"]["producer"]["uid"] for r in rows)
    assert main(["get", "models", "--project", "shop"]) == 0
    table = capsys.readouterr().out
    assert "fraud" in table and "auc=0.88" in table and "production" in table


def test_registry_errors_are_clear() -> None:
    with pytest.raises(NotFoundInStoreError, match="fraud"):
        sg.get_model("store://models/shop/fraud:nope")
    with pytest.raises(DataItemError, match="store://models/"):
        sg.get_model("store://datasets/shop/fraud")
    _train("v1", 0.8)
    with pytest.raises(RunError, match="'tag'"):
        sg.tag_model("store://models/shop/fraud:v1", "a:b")
    assert main(["promote", "store://models/shop/nope"]) == 1


def test_lineage_of_a_model_version(capsys: pytest.CaptureFixture[str]) -> None:
    _train("v1", 0.8)
    tree = sg.lineage("store://models/shop/fraud:v1")
    assert tree["kind"] == "model" and tree["details"]["metrics"] == {"auc": 0.8}
    (run,) = tree["children"]
    assert run["kind"] == "run" and run["details"]["parameters"] == {"lr": 0.1}
    assert run["details"]["state"] == "completed"
    assert main(["lineage", "store://models/shop/fraud:v1"]) == 0
    out = capsys.readouterr().out
    assert "model store://models/shop/fraud" in out and "training run train" in out
    assert main(["lineage", "no-such-request"]) == 1
