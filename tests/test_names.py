"""Names never escape their folder or key: one rule, one error, at every door."""

from __future__ import annotations

import doctest
from pathlib import Path

import pandas as pd
import pytest

from servegraph import names
from servegraph.errors import InvalidNameError
from servegraph.featurestore import FeatureSet, ParquetTarget, SQLiteTarget, ingest
from servegraph.functions.context import get_or_create_ctx, set_current
from servegraph.streams import stream_url_for

BAD = ["", "..", "../..", "a/b", "a:b", "a*", ".hidden", "-x", "x" * 129, "a b", "é"]


def test_the_docstring() -> None:
    assert doctest.testmod(names).failed == 0


@pytest.mark.parametrize("bad", BAD)
def test_one_rule_at_every_door(bad: str) -> None:
    with pytest.raises(InvalidNameError, match="name must be"):
        names.check_name("x", bad)
    with pytest.raises(InvalidNameError):
        FeatureSet(bad, entities=["id"])
    with pytest.raises(InvalidNameError):
        FeatureSet("ok", entities=["id"], project=bad)
    with pytest.raises(InvalidNameError):
        stream_url_for("file:///tmp/streams", bad)
    assert InvalidNameError.status_code == 400


def test_good_names_pass() -> None:
    for good in ("a", "churn_v2.daily", "A-1", "x" * 128):
        assert names.check_name("x", good) == good


def test_under_refuses_the_root_and_anything_outside(tmp_path: Path) -> None:
    assert names.under(tmp_path, "a", "b") == tmp_path.resolve() / "a" / "b"
    for parts in (("..",), (".",), ("a", "../.."), ("/etc",)):
        with pytest.raises(InvalidNameError, match="not inside"):
            names.under(tmp_path, *parts)


def test_batch_ingest_of_a_dotted_set_cannot_delete_the_offline_store(
    servegraph_home: Path,
) -> None:
    keep = FeatureSet("keep", entities=["id"])
    keep.set_targets([ParquetTarget()])
    ingest(keep, pd.DataFrame({"id": [1, 2], "x": [1.0, 2.0]}))
    stored = sorted(p for p in servegraph_home.rglob("*.parquet"))
    assert stored
    with pytest.raises(InvalidNameError):
        ingest(FeatureSet("..", entities=["id"]), pd.DataFrame({"id": [1], "x": [1.0]}))
    with pytest.raises(InvalidNameError):
        ParquetTarget().location("default/..")
    assert sorted(p for p in servegraph_home.rglob("*.parquet")) == stored


def test_composite_online_keys_never_collide() -> None:
    fset = FeatureSet("pairs", entities=["a", "b"])
    fset.set_targets([SQLiteTarget()])
    frame = pd.DataFrame(
        {"a": ["1.2", "1", "x\\", "x"], "b": ["3", "2.3", ".y", "\\.y"], "v": [1, 2, 3, 4]}
    )
    ingest(fset, frame)
    store = SQLiteTarget().open()
    try:
        from servegraph.featurestore.writer import entity_key

        keys = [
            (fset.key, entity_key(list(pair))) for pair in zip(frame["a"], frame["b"], strict=True)
        ]
        assert len(set(keys)) == 4
        rows = store.read(keys, [["v"]] * 4)
    finally:
        store.close()
    assert [r["v"] if r else None for r in rows] == [1, 2, 3, 4]


def test_a_request_cannot_choose_where_a_run_writes(servegraph_home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    body = {
        "metadata": {"name": "r", "project": "p1", "uid": "u1"},
        "spec": {"output_path": str(outside), "default_output_path": str(outside)},
    }
    token = set_current(None)
    try:
        ctx = get_or_create_ctx("r", event=body)
        ctx.log_artifact("report", body=b"hello", format="txt")
    finally:
        set_current(None)
        del token
    assert not outside.exists()
    assert ctx.out_path.endswith("p1/u1")
    assert list((servegraph_home).rglob("report.txt"))


def test_a_request_cannot_name_an_escaping_project(servegraph_home: Path) -> None:
    body = {"metadata": {"name": "r", "project": "../..", "uid": "u1"}, "spec": {}}
    with pytest.raises(InvalidNameError):
        get_or_create_ctx("r", event=body)
    set_current(None)
