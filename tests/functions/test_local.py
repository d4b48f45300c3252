"""Kind local: in-process runs, handler arguments, errors recorded, logs stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.errors import RunFailedError
from servegraph.functions.factory import new_function
from servegraph.storage.rundb import get_run_db


def test_handler_gets_context_and_params_and_return_is_logged(code_file: str) -> None:
    fn = new_function("calc", kind="local", command=code_file)
    run = fn.run(handler="add", params={"a": 3, "b": 4}, watch=False)
    assert run.state() == "completed"
    assert run.outputs == {"sum": 7, "product": 12}
    stored = get_run_db().read_run(run.uid, "default")
    assert stored["spec"]["handler"] == "add" and stored["status"]["results"]["sum"] == 7
    assert stored["metadata"]["labels"]["kind"] == "local"


def test_defaults_of_the_handler_are_recorded(code_file: str) -> None:
    run = new_function("calc", kind="local", command=code_file).run(handler="add", watch=False)
    assert run.spec["parameters"] == {"a": 1, "b": 2}


def test_inputs_are_passed_as_data_items(code_file: str, tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a\n1\n2\n3\n")
    fn = new_function("reader", kind="local", command=code_file)
    run = fn.run(handler="read", inputs={"data": str(tmp_path / "d.csv")}, watch=False)
    assert run.outputs == {"rows": 3}


def test_exception_is_recorded_as_error_state(
    code_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = new_function("bad", kind="local", command=code_file).run(handler="fail")
    assert run.state() == "error"
    assert run.error == "ValueError: boom in user code"
    assert get_run_db().read_run(run.uid, "default")["status"]["state"] == "error"
    assert "about to fail" in run.logs() and "Traceback" in run.logs()
    assert "about to fail" in capsys.readouterr().out  # streamed while running
    with pytest.raises(RunFailedError, match="boom"):
        new_function("bad", kind="local", command=code_file).run(
            handler="fail", watch=False, raise_on_error=True
        )


def test_artifact_accessor(code_file: str) -> None:
    run = new_function("t", kind="local", command=code_file).run(
        handler="train", params={"x": 1}, watch=False
    )
    assert run.artifact("note").get() == b"x=1 y=0"
    assert run.outputs["note"] == "store://artifacts/default/note:latest"
    with pytest.raises(Exception, match="no artifact 'nope'"):
        run.artifact("nope")
    assert run.refresh().state() == "completed"
    assert "uid: " + run.uid in run.to_yaml()


def test_runs_artifacts_and_hyper_children_on_sqlite_and_postgres(
    any_dbpath: str, code_file: str
) -> None:
    fn = new_function("tune", kind="local", command=code_file, project="dbproj")
    run = fn.run(handler="train", hyperparams={"x": [1, 2]}, selector="max.accuracy", watch=False)
    assert run.state() == "completed" and run.outputs["best_iteration"] == 2
    db = get_run_db()
    assert db.url.startswith("postgresql" if any_dbpath else "sqlite")
    assert len(db.list_runs(project="dbproj", iterations=True)) == 3
    assert db.read_artifact("note", project="dbproj")["spec"]["producer"]["uid"] == run.uid
    db.close()
