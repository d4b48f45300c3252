"""``servegraph get`` and ``servegraph logs`` over the run database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from servegraph.cli import main
from servegraph.functions.factory import new_function
from servegraph.functions.project import new_project


def test_get_every_kind(code_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fn = new_function("trainer", kind="local", command=code_file, project="p1")
    fn.save()
    run = fn.run(handler="train", params={"x": 2}, watch=False)
    new_project("p1", context=str(tmp_path), description="demo")
    capsys.readouterr()

    assert main(["get", "runs", "--project", "p1"]) == 0
    out = capsys.readouterr().out
    assert "trainer" in out and run.uid[:8] in out and "completed" in out
    assert main(["get", "artifacts", "--project", "p1"]) == 0
    assert "note" in capsys.readouterr().out
    assert main(["get", "functions"]) == 0
    assert "trainer" in capsys.readouterr().out
    assert main(["get", "projects"]) == 0
    assert "demo" in capsys.readouterr().out

    assert main(["get", "runs", run.uid, "-o", "yaml"]) == 0
    (record,) = yaml.safe_load(capsys.readouterr().out)
    assert record["status"]["results"]["accuracy"] == -1
    assert main(["get", "runs", "--state", "error", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_logs(code_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    run = new_function("bad", kind="local", command=code_file).run(handler="fail", watch=False)
    assert main(["logs", run.uid]) == 0
    out = capsys.readouterr().out
    assert "about to fail" in out and "state=error" in out
    assert main(["logs", "nope"]) == 1
    assert "run 'nope' not found" in capsys.readouterr().err


def test_bad_kind_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["get", "gadgets"])
    assert exc.value.code == 2


def test_get_runs_with_iterations_and_logs_watch(
    code_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fn = new_function("tune", kind="local", command=code_file)
    run = fn.run(handler="train", hyperparams={"x": [1, 2]}, watch=False)
    capsys.readouterr()
    assert main(["get", "runs", "-o", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["get", "runs", "--iterations", "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["metadata"]["iteration"] for r in rows) == [0, 1, 2]
    assert main(["logs", run.uid, "--watch"]) == 0  # a finished run: prints and returns
    assert "state=completed" in capsys.readouterr().out
