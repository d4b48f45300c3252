"""Kind dask on a distributed LocalCluster (in-process workers)."""

from __future__ import annotations

import pytest

from servegraph.errors import RunError
from servegraph.functions.factory import new_function


def test_single_run_on_a_local_cluster(code_file: str) -> None:
    fn = new_function("calc", kind="dask", command=code_file)
    run = fn.run(handler="add", params={"a": 2, "b": 3})
    assert run.state() == "completed" and run.outputs == {"sum": 5, "product": 6}


def test_hyper_parameter_children_run_as_dask_tasks(code_file: str) -> None:
    fn = new_function("tune", kind="dask", command=code_file)
    run = fn.run(
        handler="train",
        hyperparams={"x": [1, 2, 3], "y": [1]},
        hyper_param_options={"parallel_runs": 3},
        selector="max.accuracy",
    )
    assert run.state() == "completed" and run.outputs["best_iteration"] == 2
    assert len(run.status["iterations"]) == 4


def test_dask_needs_a_handler_and_valid_workers(code_file: str) -> None:
    with pytest.raises(RunError, match="handler"):
        new_function("calc", kind="dask", command=code_file).run()
    with pytest.raises(RunError, match="n_workers"):
        new_function("calc", kind="dask", n_workers=0)
