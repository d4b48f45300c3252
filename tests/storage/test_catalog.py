"""Artifact and function versions with tags, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from servegraph.errors import NotFoundInStoreError
from servegraph.storage.rundb import RunDB


def _art(key: str, path: str) -> dict:
    return {"kind": "artifact", "metadata": {"key": key}, "spec": {"target_path": path}}


def test_artifact_versions_and_tags(db: RunDB) -> None:
    db.store_artifact("data", _art("data", "/a/1"), "h1", project="p", producer="r1")
    db.store_artifact("data", _art("data", "/a/2"), "h2", project="p", tags=("latest", "v2"))
    assert db.read_artifact("data", project="p")["spec"]["target_path"] == "/a/2"
    assert db.read_artifact("data", project="p", hash_="h1")["spec"]["target_path"] == "/a/1"
    assert db.read_artifact("data", tag="v2", project="p")["metadata"]["tags"] == ["latest", "v2"]
    assert len(db.list_artifacts(project="p")) == 2
    assert len(db.list_artifacts(project="p", tag="latest")) == 1
    assert len(db.list_artifacts(project="p", producer="r1")) == 1
    with pytest.raises(NotFoundInStoreError, match="nope"):
        db.read_artifact("data", tag="nope", project="p")
    db.del_artifacts("p", "data")
    assert db.list_artifacts(project="p") == []


def test_function_versions_latest_and_listing(db: RunDB) -> None:
    db.store_function({"kind": "job", "metadata": {"name": "f"}}, "f", "h1", project="p")
    db.store_function({"kind": "job", "metadata": {"name": "f"}, "v": 2}, "f", "h2", project="p")
    assert db.get_function("f", "p")["metadata"]["hash"] == "h2"
    assert db.get_function("f", "p", hash_="h1")["kind"] == "job"
    assert [f["metadata"]["hash"] for f in db.list_functions("p")] == ["h2"]
    assert len(db.list_functions("p", all_versions=True)) == 2
    with pytest.raises(NotFoundInStoreError):
        db.get_function("g", "p")


def test_concurrent_writers_of_one_key_all_succeed_and_latest_moves(db: RunDB) -> None:
    """Writers racing on a new key (hyper children in a pool) must not hit the unique keys."""
    writers = 8

    def write(i: int) -> None:
        barrier.wait()
        db.store_artifact("race", _art("race", f"/r/{i}"), f"h{i}", project="p")
        db.store_function({"kind": "job"}, "fn", f"f{i}", project="p")
        db.store_run({"metadata": {"uid": "u1", "project": "p", "name": f"n{i}"}, "status": {}})

    for _ in range(3):  # a few rounds: the race window is small
        barrier = threading.Barrier(writers)
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, range(writers)))
        db.del_artifacts("p", "race")
    db.store_artifact("race", _art("race", "/r/x"), "hx", project="p")
    assert db.read_artifact("race", project="p")["metadata"]["tags"] == ["latest"]
    assert len(db.list_functions(project="p")) == 1
    assert len(db.list_runs(project="p")) == 1
