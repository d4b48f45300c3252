"""Projects: project.yaml, functions, runs with project params, listings, schedules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from servegraph.errors import InvalidNameError, RunError
from servegraph.functions.factory import new_function
from servegraph.functions.project import get_or_create_project, load_project, new_project
from servegraph.storage.dataitem import get_dataitem
from servegraph.storage.rundb import get_run_db

CODE = """
def add(context, a=1, b=2):
    context.log_result("sum", a + b)

def model(context):
    context.log_model("clf", body=b"weights")
"""


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "calc.py").write_text(CODE)
    return folder


def test_new_project_writes_project_yaml_and_the_db(context_dir: Path) -> None:
    project = new_project("calc", context=str(context_dir), params={"b": 10})
    project.set_function("calc.py", name="adder", kind="local", handler="add")
    project.save()
    data = yaml.safe_load((context_dir / "project.yaml").read_text())
    assert data["metadata"]["name"] == "calc" and data["spec"]["params"] == {"b": 10}
    assert data["spec"]["functions"] == [
        {"name": "adder", "url": "calc.py", "kind": "local", "handler": "add"}
    ]
    assert get_run_db().get_project("calc")["spec"]["functions"][0]["name"] == "adder"


def test_run_function_uses_project_params_and_lists(context_dir: Path) -> None:
    project = new_project("calc", context=str(context_dir), params={"b": 10})
    project.set_function("calc.py", name="adder", kind="local", handler="add")
    project.set_function("calc.py", name="modeler", kind="local", handler="model")
    run = project.run_function("adder", params={"a": 5}, watch=False)
    assert run.outputs == {"sum": 15} and run.project == "calc"
    project.run_function("modeler", watch=False)
    assert [r.name for r in project.list_runs()] == ["modeler", "adder"]
    assert [m["metadata"]["key"] for m in project.list_models()] == ["clf"]
    assert len(project.list_artifacts()) == 1
    assert sorted(f["metadata"]["name"] for f in project.list_functions()) == ["adder", "modeler"]
    with pytest.raises(RunError, match="no function 'nope'"):
        project.run_function("nope")


def test_function_objects_and_reload(context_dir: Path) -> None:
    project = new_project("calc", context=str(context_dir))
    fn = new_function("inline", kind="local", command=str(context_dir / "calc.py"))
    project.set_function(fn, handler="add")
    project.save()
    loaded = load_project(str(context_dir))
    assert loaded.get_function("inline").run(handler="add", watch=False).outputs == {"sum": 3}
    assert get_or_create_project("calc", str(context_dir)).name == "calc"
    with pytest.raises(RunError, match="not 'other'"):
        get_or_create_project("other", str(context_dir))


def test_get_or_create_creates_and_load_needs_a_project(tmp_path: Path) -> None:
    project = get_or_create_project("fresh", str(tmp_path / "new"))
    assert (tmp_path / "new" / "project.yaml").is_file() and project.name == "fresh"
    assert load_project(str(tmp_path / "elsewhere"), name="fresh").name == "fresh"
    with pytest.raises(RunError, match=r"project\.yaml"):
        load_project(str(tmp_path / "none"))
    with pytest.raises(InvalidNameError, match="'Bad_Name'"):
        new_project("Bad_Name", str(tmp_path))


def test_schedules_are_validated_and_stored(context_dir: Path) -> None:
    project = new_project("calc", context=str(context_dir))
    project.set_function("calc.py", name="adder", kind="local", handler="add")
    sched = project.set_schedule("nightly", "0 2 * * *", function="adder", params={"a": 1})
    assert sched["cron"] == "0 2 * * *" and sched["kind"] == "function"
    assert [s["name"] for s in project.list_schedules()] == ["nightly"]
    with pytest.raises(RunError, match="'61 \\* \\* \\* \\*'"):
        project.set_schedule("bad", "61 * * * *", function="adder")
    with pytest.raises(RunError, match="5-field"):
        project.set_schedule("bad", "@hourly", function="adder")
    with pytest.raises(RunError, match="exactly one"):
        project.set_schedule("bad", "0 2 * * *")
    with pytest.raises(RunError, match="no workflow 'wf'"):
        project.set_schedule("bad", "0 2 * * *", workflow="wf")


def test_project_artifacts_are_recorded_and_versioned(context_dir: Path) -> None:
    (context_dir / "data.csv").write_text("a\n1\n")
    project = new_project("calc", context=str(context_dir))
    uri = project.set_artifact("raw", "data.csv", kind="dataset", tag="v1")
    assert uri == "store://datasets/calc/raw:v1"
    assert get_dataitem(uri).as_df()["a"].tolist() == [1]
    project.save()
    data = yaml.safe_load((context_dir / "project.yaml").read_text())
    assert data["spec"]["artifacts"] == [
        {"key": "raw", "kind": "dataset", "target_path": "data.csv"}
    ]
