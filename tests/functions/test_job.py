"""Kind job: subprocess runs, log streaming, errors, and secrets never persisted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from servegraph.functions.factory import new_function

SECRET = "s3cr3t-value-9f8e7d"


def _persisted_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_job_runs_in_a_subprocess_and_records_the_run(code_file: str) -> None:
    run = new_function("calc", kind="job", command=code_file).run(
        handler="add", params={"a": 2, "b": 5}, watch=False
    )
    assert run.state() == "completed" and run.outputs == {"sum": 7, "product": 10}
    assert run.refresh().outputs["sum"] == 7


def test_job_failure_is_recorded_with_the_message(code_file: str) -> None:
    run = new_function("bad", kind="job", command=code_file).run(handler="fail", watch=False)
    assert run.state() == "error" and "boom in user code" in (run.error or "")
    assert "about to fail" in run.logs()


def test_missing_code_file_ends_in_error(tmp_path: Path) -> None:
    run = new_function("gone", kind="job", command=str(tmp_path / "gone.py")).run(
        handler="main", watch=False
    )
    assert run.state() == "error" and "does not exist" in (run.error or "")


@pytest.mark.parametrize("kind", ["job", "local"])
def test_secrets_never_reach_records_logs_or_the_database(
    kind: str,
    code_file: str,
    tmp_path: Path,
    servegraph_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets_file = tmp_path / "secrets.txt"
    secrets_file.write_text(f"TOKEN={SECRET}\n")
    fn = new_function("sec", kind=kind, command=code_file)
    by_file = fn.run(handler="echo_secret", secrets=[{"kind": "file", "source": str(secrets_file)}])
    by_dict = fn.run(handler="echo_secret", secrets={"TOKEN": SECRET})
    monkeypatch.setenv("TOKEN", SECRET)
    by_env = fn.run(handler="echo_secret", secrets=[{"kind": "env", "source": "TOKEN"}])
    for run in (by_file, by_dict, by_env):
        assert run.state() == "completed" and run.outputs["has_secret"] is True
        assert SECRET not in run.to_yaml() and SECRET not in run.logs()
        assert "the secret is ***" in run.logs()
    assert SECRET not in capsys.readouterr().out
    assert SECRET.encode() not in _persisted_bytes(servegraph_home)
    assert by_dict.spec["secret_sources"] == [{"kind": "inline", "source": ["TOKEN"]}]


def test_local_true_runs_a_job_in_process(code_file: str) -> None:
    fn = new_function("calc", kind="job", command=code_file)
    assert fn.run(handler="pid", local=True, watch=False).outputs["pid"] == os.getpid()
    assert fn.run(handler="pid", watch=False).outputs["pid"] != os.getpid()


def test_a_date_parameter_reaches_the_job_as_text(code_file: str) -> None:
    import datetime

    fn = new_function("f", kind="job", command=code_file)
    run = fn.run(handler="add", params={"a": "x", "b": datetime.date(2026, 1, 1)}, watch=False)
    assert run.spec["parameters"]["b"] == "2026-01-01"
    assert run.outputs["sum"] == "x2026-01-01"
