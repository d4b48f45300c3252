"""Artifacts: content-hash versions, tags, lineage and store:// URIs."""

from __future__ import annotations

from pathlib import Path

from servegraph.functions.artifacts import store_uri
from servegraph.functions.context import build_context
from servegraph.storage.dataitem import get_dataitem
from servegraph.storage.rundb import get_run_db


def test_versions_by_content_hash_and_movable_tags() -> None:
    first = build_context("a", {"metadata": {"project": "p"}})
    v1 = first.log_artifact("report", body="one", tag="v1")
    second = build_context("b", {"metadata": {"project": "p"}})
    v2 = second.log_artifact("report", body="two")
    again = build_context("c", {"metadata": {"project": "p"}}).log_artifact("report", body="two")
    assert v1["metadata"]["hash"] != v2["metadata"]["hash"] == again["metadata"]["hash"]
    db = get_run_db()
    assert len(db.list_artifacts(project="p", key="report")) == 2  # same content, same version
    assert get_dataitem("store://artifacts/p/report").get() == b"two"
    assert get_dataitem("store://artifacts/p/report:v1").get() == b"one"
    assert db.read_artifact("report", project="p")["metadata"]["tags"] == ["latest"]


def test_lineage_names_the_producer_run_and_its_inputs(tmp_path: Path) -> None:
    source = tmp_path / "raw.csv"
    source.write_text("a\n1\n")
    ctx = build_context("prep", {"metadata": {"project": "p"}, "spec": {"labels": {}}})
    ctx.set_label("workflow", "wf-1")
    ctx.get_input("raw", str(source))
    record = ctx.log_artifact("clean", body="a\n1\n", format="csv")
    producer = record["spec"]["producer"]
    assert producer["uid"] == ctx.uid and producer["name"] == "prep" and producer["project"] == "p"
    assert producer["workflow"] == "wf-1"
    assert record["spec"]["sources"] == [{"name": "raw", "path": str(source)}]
    assert record["spec"]["target_path"] == f"{ctx.out_path}/clean.csv"
    stored = get_run_db().list_artifacts(project="p", producer=ctx.uid)
    assert [a["metadata"]["key"] for a in stored] == ["clean"]


def test_output_path_may_be_an_fsspec_url(tmp_path: Path) -> None:
    ctx = build_context("t", {"spec": {"output_path": f"file://{tmp_path}/out"}})
    record = ctx.log_artifact("x", body=b"data")
    assert (tmp_path / "out" / "x").read_bytes() == b"data"
    assert get_dataitem(record["uri"]).get() == b"data"


def test_store_uris() -> None:
    assert store_uri("model", "p", "m") == "store://models/p/m:latest"
    assert store_uri("dataset", "p", "d", "v2") == "store://datasets/p/d:v2"
    assert store_uri("artifact", "p", "a") == "store://artifacts/p/a:latest"
