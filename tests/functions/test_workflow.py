"""The local DAG engine: steps from run_function calls, dependencies by outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.errors import RunError
from servegraph.functions.project import new_project
from servegraph.storage.rundb import get_run_db

CODE = """
import pandas as pd

def prep(context, n=3):
    context.log_dataset("data", pd.DataFrame({"x": list(range(n))}))

def total(context, data, scale=1):
    context.log_result("total", int(data.as_df()["x"].sum()) * scale)

def boom(context):
    raise RuntimeError("step failed")
"""

WORKFLOW = """
def pipeline(project, n=3, scale=1):
    prep = project.run_function("prep", params={"n": n})
    project.run_function("total", inputs={"data": prep.outputs["data"]}, params={"scale": scale})
"""

FAILING = """
def pipeline(project):
    first = project.run_function("boom")
    project.run_function("prep").after(first)
"""

CYCLE = """
def pipeline(project):
    a = project.run_function("prep")
    b = project.run_function("prep").after(a)
    a.after(b)
"""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "wfproj"
    folder.mkdir()
    (folder / "steps.py").write_text(CODE)
    (folder / "main.py").write_text(WORKFLOW)
    (folder / "failing.py").write_text(FAILING)
    (folder / "cycle.py").write_text(CYCLE)
    return folder


def _project(folder: Path):  # type: ignore[no-untyped-def]
    project = new_project("wf", context=str(folder))
    for handler in ("prep", "total", "boom"):
        project.set_function("steps.py", name=handler, kind="local", handler=handler)
    project.set_workflow("main", "main.py")
    project.set_workflow("failing", "failing.py")
    project.set_workflow("cycle", "cycle.py")
    return project


def test_workflow_runs_steps_in_dependency_order_passing_outputs(project_dir: Path) -> None:
    project = _project(project_dir)
    wf = project.run("main", arguments={"n": 5, "scale": 2}, watch=False)
    assert wf.state == "completed", wf.error
    assert list(wf.runs) == ["prep", "total"]
    total = wf.runs["total"]
    assert total.outputs == {"total": 20}
    assert total.spec["inputs"]["data"] == "store://datasets/wf/data:latest"
    for run in wf.runs.values():
        assert get_run_db().read_run(run.uid, "wf")["metadata"]["labels"]["workflow"] == wf.uid
    assert wf.to_dict()["steps"]["total"]["state"] == "completed"


def test_a_failed_step_stops_the_workflow(project_dir: Path) -> None:
    wf = _project(project_dir).run("failing", watch=False)
    assert wf.state == "error" and "'boom'" in (wf.error or "")
    assert list(wf.runs) == ["boom"]


def test_bad_workflows(project_dir: Path) -> None:
    project = _project(project_dir)
    with pytest.raises(RunError, match="cycle"):
        project.run("cycle", watch=False)
    with pytest.raises(RunError, match="no workflow 'nope'"):
        project.run("nope")
    with pytest.raises(RunError, match=r"takes no arguments \['zzz'\]"):
        project.run("main", arguments={"zzz": 1})
    with pytest.raises(RunError, match="does not exist"):
        project.set_workflow("x", "missing.py")
