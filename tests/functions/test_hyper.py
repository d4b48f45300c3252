"""Hyper-parameter runs: strategies, selection, stop condition, parallel children."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.errors import RunError
from servegraph.functions.factory import new_function
from servegraph.functions.hyper import generate, parse_selector, stop_condition_met
from servegraph.storage.dataitem import get_dataitem
from servegraph.storage.rundb import get_run_db

GRID = {"x": [0, 2, 3], "y": [1, 5]}


def test_grid_list_and_random_strategies() -> None:
    assert len(generate(GRID, {})) == 6
    assert generate({"x": [1, 2], "y": [3, 4]}, {"strategy": "list"}) == [
        {"x": 1, "y": 3},
        {"x": 2, "y": 4},
    ]
    drawn = generate(GRID, {"strategy": "random", "max_iterations": 4, "seed": 1})
    assert len(drawn) == 4 and all(d in generate(GRID, {}) for d in drawn)
    assert generate(GRID, {"strategy": "random", "max_iterations": 4, "seed": 1}) == drawn
    assert len(generate(GRID, {"max_iterations": 2})) == 2


def test_bad_hyper_parameter_options() -> None:
    with pytest.raises(RunError, match="'bayes'"):
        generate(GRID, {"strategy": "bayes"})
    with pytest.raises(RunError, match="equal-length"):
        generate({"x": [1], "y": [1, 2]}, {"strategy": "list"})
    with pytest.raises(RunError, match="'x'"):
        generate({"x": 3}, {})  # type: ignore[dict-item]
    with pytest.raises(RunError, match=r"max\.RESULT"):
        parse_selector("best.accuracy")
    with pytest.raises(RunError, match="stop_condition"):
        stop_condition_met("import os", {})
    assert not stop_condition_met("loss < 1", {"accuracy": 1})


def test_grid_run_records_every_child_and_the_best(code_file: str) -> None:
    fn = new_function("tune", kind="local", command=code_file)
    run = fn.run(handler="train", hyperparams=GRID, selector="max.accuracy", watch=False)
    assert run.state() == "completed"
    assert run.outputs["best_iteration"] == 3  # x=2, y=1
    assert run.outputs["accuracy"] == 0
    table = run.status["iterations"]
    assert table[0][:4] == ["state", "iter", "param.x", "param.y"]
    assert len(table) == 7 and all(row[0] == "completed" for row in table[1:])
    assert run.artifact("note").get() == b"x=2 y=1"
    db = get_run_db()
    assert len(db.list_runs(uid=run.uid, iterations=True)) == 7
    child = db.read_run(run.uid, "default", iteration=3)
    assert child["spec"]["parameters"] == {"x": 2, "y": 1}
    assert db.read_run(run.uid, "default")["status"]["best_iteration"] == 3


def test_min_selector_and_stop_condition(code_file: str) -> None:
    fn = new_function("tune", kind="local", command=code_file)
    run = fn.run(
        handler="train",
        hyperparams={"x": [0, 1, 2, 3], "y": [1]},
        hyper_param_options={"strategy": "grid", "stop_condition": "loss <= 1"},
        selector="min.loss",
        watch=False,
    )
    assert len(run.status["iterations"]) == 3  # stopped after x=1 (loss 1)
    assert run.outputs["loss"] == 1


def test_parallel_children_in_a_process_pool(code_file: str) -> None:
    fn = new_function("tune", kind="job", command=code_file)
    run = fn.run(
        handler="train",
        hyperparams={"x": [1, 2], "y": [1]},
        hyper_param_options={"parallel_runs": 2},
        selector="max.accuracy",
        watch=False,
    )
    assert run.state() == "completed" and run.outputs["best_iteration"] == 2
    assert [row[0] for row in run.status["iterations"][1:]] == ["completed", "completed"]


def test_all_children_failing_marks_the_parent_error(code_file: str) -> None:
    fn = new_function("tune", kind="local", command=code_file)
    run = fn.run(handler="fail", hyperparams={"x": [1, 2]}, selector="max.accuracy", watch=False)
    assert run.state() == "error"
    assert [row[0] for row in run.status["iterations"][1:]] == ["error", "error"]


def test_param_file_gives_one_child_per_row(code_file: str, tmp_path: Path) -> None:
    (tmp_path / "params.csv").write_text("x,y\n1,1\n2,1\n3,5\n")
    fn = new_function("tune", kind="local", command=code_file)
    run = fn.run(
        handler="train",
        hyper_param_options={"param_file": str(tmp_path / "params.csv")},
        selector="max.accuracy",
        watch=False,
    )
    assert run.outputs["best_iteration"] == 2 and len(run.status["iterations"]) == 4


def test_bad_stop_condition_leaves_no_running_parent(code_file: str) -> None:
    fn = new_function("tune", kind="local", command=code_file)
    options = {"stop_condition": "bogus"}
    with pytest.raises(RunError, match="'bogus'"):
        fn.run(handler="train", hyperparams=GRID, hyper_param_options=options, watch=False)
    assert get_run_db().list_runs(name="tune") == []


def test_failure_while_running_children_marks_the_parent_error(code_file: str) -> None:
    fn = new_function("tune", kind="local", command=code_file)

    def broken_pool(*args: object) -> list[dict[str, object]]:
        raise OSError("pool died")

    fn.run_children = broken_pool  # type: ignore[method-assign]
    with pytest.raises(OSError, match="pool died"):
        fn.run(handler="train", hyperparams=GRID, watch=False)
    [parent] = get_run_db().list_runs(name="tune")
    assert parent["status"]["state"] == "error"
    assert "pool died" in parent["status"]["error"]


def test_unnamed_hyper_parent_takes_the_name_the_children_got(code_file: str) -> None:
    fn = new_function("", kind="local", command=code_file)
    run = fn.run(handler="", hyperparams={"a": [1, 2]}, watch=False)
    assert run.state() == "completed"
    children = get_run_db().list_runs(uid=run.uid, iterations=True)
    assert run.name and {c["metadata"]["name"] for c in children} == {run.name}


def test_latest_tag_points_at_the_best_childs_artifact(code_file: str) -> None:
    fn = new_function("tune", kind="local", command=code_file)
    run = fn.run(handler="train", hyperparams=GRID, selector="max.accuracy", watch=False)
    assert run.outputs["best_iteration"] == 3
    latest = get_run_db().read_artifact("note", project="default")
    assert latest["metadata"]["iter"] == 3
    assert get_dataitem("store://artifacts/default/note").get() == b"x=2 y=1"
