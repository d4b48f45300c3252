"""The run database on SQLite and PostgreSQL: runs, logs, projects, schedules, migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from servegraph.errors import ConfigError, NotFoundInStoreError, StorageError
from servegraph.storage.rundb import RunDB, get_run_db


def _run(uid: str, name: str = "train", state: str = "completed", **labels: str) -> dict:
    return {
        "metadata": {"name": name, "uid": uid, "project": "p", "iteration": 0, "labels": labels},
        "spec": {"parameters": {"x": 1}},
        "status": {"state": state, "start_time": "2026-11-25 10:00:00+00:00", "results": {}},
    }


def test_migrations_create_every_table_and_record_the_revision(db: RunDB) -> None:
    tables = set(inspect(db.engine).get_table_names())
    expected = {"runs", "artifacts", "functions", "tags", "projects", "schedules", "logs"}
    assert expected <= tables
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


def test_store_read_update_and_list_runs(db: RunDB) -> None:
    db.store_run(_run("u1", state="running", owner="ann"))
    db.store_run(_run("u2", name="other", owner="bob"))
    run = _run("u1", owner="ann")
    run["status"]["results"] = {"accuracy": 0.9}
    db.store_run(run)  # replaces, does not duplicate

    assert db.read_run("u1", "p")["status"]["results"] == {"accuracy": 0.9}
    assert [r["metadata"]["uid"] for r in db.list_runs(project="p")] == ["u1", "u2"]
    assert [r["metadata"]["uid"] for r in db.list_runs(name="other")] == ["u2"]
    assert [r["metadata"]["uid"] for r in db.list_runs(labels={"owner": "ann"})] == ["u1"]
    assert db.list_runs(state="running") == []
    assert len(db.list_runs(last=1)) == 1


def test_children_are_listed_only_when_asked(db: RunDB) -> None:
    db.store_run(_run("u1"))
    child = _run("u1")
    child["metadata"]["iteration"] = 3
    db.store_run(child)
    assert len(db.list_runs(project="p")) == 1
    assert len(db.list_runs(project="p", iterations=True)) == 2
    assert db.read_run("u1", "p", iteration=3)["metadata"]["iteration"] == 3


def test_unknown_run_raises_not_found(db: RunDB) -> None:
    with pytest.raises(NotFoundInStoreError, match="nope"):
        db.read_run("nope", "p")


def test_delete_run_removes_it_and_its_logs(db: RunDB) -> None:
    db.store_run(_run("u1"))
    db.store_log("u1", "p", b"hello\n")
    db.del_run("u1", "p")
    with pytest.raises(NotFoundInStoreError):
        db.read_run("u1", "p")
    assert db.get_log("u1", "p") == b""


def test_logs_append_in_order(db: RunDB) -> None:
    db.store_log("u1", "p", b"one\n")
    db.store_log("u1", "p", b"two\n")
    assert db.get_log("u1", "p") == b"one\ntwo\n"
    db.store_run(_run("u1"))
    assert db.find_run("u1")["metadata"]["project"] == "p"


def test_projects_round_trip(db: RunDB) -> None:
    db.store_project("b", {"metadata": {"name": "b"}})
    db.store_project("a", {"metadata": {"name": "a"}, "spec": {"params": {"k": 1}}})
    db.store_project("a", {"metadata": {"name": "a"}, "spec": {"params": {"k": 2}}})
    assert db.get_project("a")["spec"]["params"] == {"k": 2}
    assert [p["metadata"]["name"] for p in db.list_projects()] == ["a", "b"]
    db.del_project("b")
    with pytest.raises(NotFoundInStoreError):
        db.get_project("b")


def test_schedules_round_trip(db: RunDB) -> None:
    db.store_schedule("p", "nightly", "0 2 * * *", "job", {"function": "train"})
    db.store_schedule("p", "nightly", "0 3 * * *", "job", {"function": "train"})
    sched = db.get_schedule("p", "nightly")
    assert sched["cron"] == "0 3 * * *" and sched["scheduled_object"] == {"function": "train"}
    assert len(db.list_schedules("p")) == 1
    db.del_schedule("p", "nightly")
    assert db.list_schedules("p") == []


def test_schedule_last_run_is_kept_apart_from_the_target(db: RunDB) -> None:
    from datetime import UTC, datetime

    db.store_schedule("p", "nightly", "0 2 * * *", "function", {"function": "train"})
    assert db.get_schedule("p", "nightly")["last_run"] is None
    assert datetime.fromisoformat(db.get_schedule("p", "nightly")["created"]).tzinfo is not None
    when = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    db.set_schedule_last_run("p", "nightly", when, "uid1")
    db.store_schedule("p", "nightly", "0 3 * * *", "function", {"function": "train"})
    sched = db.get_schedule("p", "nightly")
    assert sched["scheduled_object"] == {"function": "train"}
    assert (sched["last_run"], sched["last_run_uid"]) == (when.isoformat(), "uid1")
    with pytest.raises(NotFoundInStoreError):
        db.set_schedule_last_run("p", "nope", when, "")


def test_reopening_keeps_data_and_does_not_remigrate(db_url: str) -> None:
    db = get_run_db(db_url)
    db.store_run(_run("u1"))
    db.close()
    again = get_run_db(db_url)
    assert again.read_run("u1", "p")["metadata"]["uid"] == "u1"
    again.close()


def test_default_database_lives_under_servegraph_home(servegraph_home: Path) -> None:
    db = get_run_db()
    db.store_run(_run("u1"))
    assert (servegraph_home / "servegraph.db").exists()
    db.close()


def test_plain_path_means_sqlite(tmp_path: Path) -> None:
    db = get_run_db(str(tmp_path / "sub" / "x.db"))
    assert db.url.startswith("sqlite:///") and (tmp_path / "sub" / "x.db").exists()
    db.close()


def test_postgres_urls_use_psycopg3() -> None:
    from servegraph.storage.schema import normalize_url

    assert normalize_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot migrate the run database"):
        get_run_db("postgresql+psycopg://postgres@127.0.0.1:9/nope?connect_timeout=2")


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid"):
        get_run_db("not a url://x")
    with pytest.raises(ConfigError, match="unsupported"):
        get_run_db("nosuchdialect://host/db")


def test_migrations_downgrade_and_upgrade_again(db: RunDB) -> None:
    from servegraph.storage.schema import migrate

    migrate(db.engine, "base", downgrade=True)
    assert "runs" not in inspect(db.engine).get_table_names()
    migrate(db.engine)
    db.store_run(_run("u1"))
    assert db.read_run("u1", "p")["metadata"]["uid"] == "u1"


def test_non_finite_results_are_stored_alike_on_every_backend(db: RunDB) -> None:
    """A diverged loss (NaN) must not fail on PostgreSQL, whose JSON has no NaN token."""
    run = _run("nan1")
    run["status"]["results"] = {"loss": float("nan"), "hi": float("inf"), "lo": [float("-inf")]}
    db.store_run(run)
    results = db.read_run("nan1", "p")["status"]["results"]
    assert results == {"loss": "NaN", "hi": "Infinity", "lo": ["-Infinity"]}
