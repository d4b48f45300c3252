"""``servegraph run``: the seed example end to end, hyper-parameters, bad arguments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servegraph.cli import main

ROOT = Path(__file__).parents[3]
SECRET = "seed-secret-31337"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "servegraph", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_seed_example_end_to_end(
    tmp_path: Path, servegraph_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "examples" / "seed_example.py", tmp_path / "example.py")
    (tmp_path / "secrets.txt").write_text(f"ACCESS_KEY={SECRET}\n")
    (tmp_path / "infile.txt").write_text("input file content\n")
    done = _cli("run", "-p", "p1=5", "-s", "file=secrets.txt", "-i",
                f"infile.txt={tmp_path / 'infile.txt'}", "example.py", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Params: p1=5, p2=a-string" in done.stdout and "input file content" in done.stdout
    assert "accesskey = ***" in done.stdout and SECRET not in done.stdout
    assert "state=completed" in done.stdout

    table = _cli("get", "runs", cwd=tmp_path)
    assert table.returncode == 0
    assert "mytask" in table.stdout and "accuracy=10" in table.stdout
    assert "completed" in table.stdout and "test.txt" in table.stdout

    assert main(["get", "runs", "-o", "json"]) == 0  # the same database, read in-process
    (record,) = json.loads(capsys.readouterr().out)
    assert record["metadata"]["name"] == "mytask"
    assert record["spec"]["parameters"] == {"p1": 5, "p2": "a-string"}
    assert record["spec"]["secret_sources"] == [
        {"kind": "file", "source": str(tmp_path / "secrets.txt")}
    ]
    assert record["status"]["outputs"] == {"accuracy": 10}
    assert record["status"]["metrics"]["loss"]["yvalues"] == [2, 4, 6]
    assert record["status"]["commit"] == "aa"

    assert main(["logs", record["metadata"]["uid"]]) == 0
    logs = capsys.readouterr().out
    assert "accesskey = ***" in logs and "state=completed" in logs
    persisted = b"".join(p.read_bytes() for p in servegraph_home.rglob("*") if p.is_file())
    assert SECRET.encode() not in persisted


def test_handler_params_and_hyperparams_in_process(
    tmp_path: Path, code_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--kind", "local", "--handler", "add", "-p", "a=4", code_file]) == 0
    assert "results: sum=6, product=8" in capsys.readouterr().out
    code = main(["run", "--kind", "local", "--handler", "train", "--hyperparam", "x=[1,2,3]",
                 "--selector", "max.accuracy", "--no-watch", code_file])  # fmt: skip
    assert code == 0
    assert "best_iteration=2" in capsys.readouterr().out


def test_failed_run_exits_1(code_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--kind", "local", "--handler", "fail", "--no-watch", code_file]) == 1
    assert "boom in user code" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "p1"], "'-p' option must be key=value"),
        (["-i", "=x"], "'-i' option must be key=value"),
        (["-s", "secrets.txt"], "file=PATH"),
        (["-s", "file=/no/such/secrets.txt"], "does not exist"),
        (["--hyperparam", "x=3"], "must be a list"),
        (["--hyperparam", "x=[]"], "must be a list"),
        (["--hyperparam", "x=[1,2"], "must be a list"),
        (["--hyperparam", "x=[1]", "--selector", "max"], "max.RESULT"),
        (["--hyperparam", "x=[1]", "--stop-condition", "bogus"], "stop_condition"),
        (["-i", "data=/no/such/input.csv"], "'/no/such/input.csv' (-i data=...) does not exist"),
    ],
)
def test_bad_arguments_exit_2(
    args: list[str], message: str, code_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *args, code_file]) == 2
    assert message in capsys.readouterr().err


def test_unknown_file_and_unreachable_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "no_such_file.py"]) == 2
    assert "not a file" in capsys.readouterr().err
    assert main(["run", "http://127.0.0.1:9/"]) == 1
    assert "cannot be reached" in capsys.readouterr().err


def test_run_against_a_function_url(
    function_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = tmp_path / "secrets.txt"
    secrets.write_text(f"ACCESS_KEY={SECRET}\n")
    assert main(["run", "-p", "p1=7", "-s", f"file={secrets}", function_url]) == 0
    out = capsys.readouterr().out
    assert "state=completed" in out and "accuracy=14" in out and SECRET not in out
    assert main(["get", "runs", "-o", "json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["metadata"]["name"] == "myfunc"
    assert record["spec"]["secret_sources"] == [{"kind": "file", "source": str(secrets)}]


def test_run_a_function_yaml(
    code_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from servegraph.functions.factory import new_function

    spec = new_function("adder", kind="local", command=code_file, handler="add").export(
        str(tmp_path / "adder.yaml")
    )
    assert main(["run", "-p", "b=5", "--project", "yamlproj", spec]) == 0
    out = capsys.readouterr().out
    assert "run 'adder'" in out and "project=yamlproj" in out and "sum=6" in out
