"""``servegraph project run WORKFLOW`` and ``project show``."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.cli import main
from servegraph.functions.project import new_project

STEPS = """
def first(context, n=1):
    context.log_result("value", n * 10)

def second(context, value=0):
    context.log_result("double", value * 2)
"""

WORKFLOW = """
def pipeline(project, n=1):
    a = project.run_function("first", params={"n": n})
    project.run_function("second", params={"value": a.outputs["value"]})
"""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "steps.py").write_text(STEPS)
    (tmp_path / "wf.py").write_text(WORKFLOW)
    project = new_project("cli-proj", context=str(tmp_path))
    project.set_function("steps.py", name="first", kind="local", handler="first")
    project.set_function("steps.py", name="second", kind="local", handler="second")
    project.set_workflow("main", "wf.py")
    project.save()
    return tmp_path


def test_project_run_and_show(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["project", "run", "main", "-c", str(project_dir), "-a", "n=3", "--no-watch"])
    assert code == 0
    out = capsys.readouterr().out
    assert "state=completed" in out and "second: completed" in out
    assert main(["get", "runs", "--project", "cli-proj", "--name", "second", "-o", "json"]) == 0
    assert '"double": 60' in capsys.readouterr().out
    assert main(["project", "show", "-c", str(project_dir)]) == 0
    assert "name: cli-proj" in capsys.readouterr().out


def test_project_errors(
    project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["project", "run", "main", "-c", str(project_dir), "-a", "oops"]) == 2
    assert "'-a' option must be key=value" in capsys.readouterr().err
    assert main(["project", "run", "nope", "-c", str(project_dir)]) == 1
    assert "no workflow 'nope'" in capsys.readouterr().err
    assert main(["project", "run", "main", "-c", str(tmp_path / "empty")]) == 1
    assert "project.yaml" in capsys.readouterr().err
