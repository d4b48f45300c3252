"""Pages of runs filtered in SQL (the dashboard's list), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from servegraph.storage.rundb import RunDB


def _run(uid: str, name: str, state: str, iteration: int = 0, **labels: str) -> dict:
    return {
        "metadata": {
            "name": name,
            "uid": uid,
            "project": "p",
            "iteration": iteration,
            "labels": labels,
        },
        "status": {"state": state},
    }


@pytest.fixture
def runs(db: RunDB) -> RunDB:
    for i in range(12):
        state = "error" if i % 3 == 0 else "completed"
        db.store_run(_run(f"u{i:02d}", f"train-{i % 2}", state, team="a" if i < 6 else "b"))
    db.store_run(_run("u00", "train-0", "completed", iteration=1, team="a"))  # a child
    db.store_run(_run("u00", "train-0", "completed", iteration=2, team="a"))
    db.store_run(_run("x", "100%_done", "completed"))
    return db


def uids(page: tuple[int, list[dict]]) -> tuple[int, list[str]]:
    return page[0], [r["metadata"]["uid"] for r in page[1]]


def test_pages_newest_first_without_children(runs: RunDB) -> None:
    total, first = uids(runs.page_runs(project="p", limit=5))
    assert total == 13 and first == ["x", "u11", "u10", "u09", "u08"]
    assert uids(runs.page_runs(project="p", offset=10, limit=5)) == (13, ["u02", "u01", "u00"])
    assert uids(runs.page_runs(project="other")) == (0, [])


def test_filters_by_state_name_part_and_labels(runs: RunDB) -> None:
    assert uids(runs.page_runs(state="error", labels={"team": "b"})) == (2, ["u09", "u06"])
    total, names = uids(runs.page_runs(name="in-1", labels={"team": "a"}))
    assert (total, names) == (3, ["u05", "u03", "u01"])
    assert uids(runs.page_runs(name="%_")) == (1, ["x"])  # LIKE wildcards are escaped
    assert uids(runs.page_runs(labels={"team": "zzz"})) == (0, [])


def test_counts_and_iterations(runs: RunDB) -> None:
    assert runs.run_counts() == {"p": {"completed": 9, "error": 4}}
    children = runs.list_iterations("u00", "p")
    assert [c["metadata"]["iteration"] for c in children] == [1, 2]
