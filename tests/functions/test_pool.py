"""Parallel hyper-parameter children on the warm worker pool (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from servegraph.functions.factory import new_function
from servegraph.functions.pool import shutdown

HANDLERS = """
import os

def work(context, x=0):
    context.log_result("pid", os.getpid())
    context.log_result("y", x * 2)

def crash(context, x=0):
    if x == 2:
        os._exit(3)  # the worker dies with this child
    os.write(1, b"raw bytes on fd 1 must not break the answers\\n")
    print("printed", x)
    context.log_result("y", x)
"""


@pytest.fixture
def handlers(tmp_path: Path) -> str:
    path = tmp_path / "handlers.py"
    path.write_text(HANDLERS)
    yield str(path)
    shutdown()


def test_children_run_in_parallel_on_reused_workers(handlers: str) -> None:
    fn = new_function("tune", kind="job", command=handlers)
    options = {"parallel_runs": 4}
    first = fn.run(handler="work", hyperparams={"x": list(range(8))},
                   hyper_param_options=options, selector="max.y", watch=False)  # fmt: skip
    assert first.state() == "completed" and first.outputs["y"] == 14
    rows = first.status["iterations"][1:]
    assert [r[0] for r in rows] == ["completed"] * 8
    header = first.status["iterations"][0]
    pids = {r[header.index("output.pid")] for r in rows}
    assert os.getpid() not in pids and 1 < len(pids) <= 4
    second = fn.run(handler="work", hyperparams={"x": [1, 2, 3, 4]},
                    hyper_param_options=options, selector="max.y", watch=False)  # fmt: skip
    header = second.status["iterations"][0]
    again = {r[header.index("output.pid")] for r in second.status["iterations"][1:]}
    assert again <= pids  # the same warm workers, no new processes


def test_a_dying_child_is_an_error_and_the_pool_goes_on(handlers: str) -> None:
    fn = new_function("tune", kind="job", command=handlers)
    run = fn.run(
        handler="crash",
        hyperparams={"x": [1, 2, 3, 4]},
        hyper_param_options={"parallel_runs": 2},
        selector="max.y",
        watch=False,
    )
    states = [row[:2] for row in run.status["iterations"][1:]]
    assert states == [["completed", 1], ["error", 2], ["completed", 3], ["completed", 4]]
    assert run.outputs["y"] == 4
    from servegraph.storage.rundb import get_run_db

    child = get_run_db().read_run(run.uid, run.metadata["project"], 2)
    assert "worker process died" in child["status"]["error"]
    again = fn.run(
        handler="work",
        hyperparams={"x": [5, 6]},
        hyper_param_options={"parallel_runs": 2},
        selector="max.y",
        watch=False,
    )
    assert again.state() == "completed" and again.outputs["y"] == 12


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path, handlers: str) -> None:
    marker = tmp_path / "ran.txt"
    script = tmp_path / "tune.py"
    script.write_text(textwrap.dedent(f"""
        import servegraph as sg
        with open({str(marker)!r}, "a") as f:
            f.write("top-level ran\\n")
        fn = sg.new_function("tune", kind="job", command={handlers!r})
        run = fn.run(handler="work", hyperparams={{"x": [1, 2, 3, 4, 5, 6, 7, 8]}},
                     hyper_param_options={{"parallel_runs": 4}}, selector="max.y", watch=False)
        print("STATE", run.state(), run.outputs["y"])
    """))  # fmt: skip
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "STATE completed 16" in done.stdout
    assert marker.read_text() == "top-level ran\n"  # never re-executed in a worker


def test_dask_children_in_worker_processes(handlers: str) -> None:
    pytest.importorskip("distributed")
    fn = new_function("tune", kind="dask", command=handlers)
    fn.spec["processes"] = True
    fn.spec["n_workers"] = 2
    run = fn.run(
        handler="work",
        hyperparams={"x": [1, 2, 3]},
        hyper_param_options={"parallel_runs": 3},
        selector="max.y",
        watch=False,
    )
    assert run.state() == "completed" and run.outputs["y"] == 6
    header = run.status["iterations"][0]
    pids = {r[header.index("output.pid")] for r in run.status["iterations"][1:]}
    assert os.getpid() not in pids  # ran in Dask's worker processes
