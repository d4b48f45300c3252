"""The local platform with real processes: deploy, ps, stop, crashes, child functions."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import servegraph as sg
from servegraph.cli import main
from servegraph.config import get_config
from servegraph.errors import NotFoundError
from servegraph.streams import get_stream, stream_url_for

ROOT = Path(sg.__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def importable_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The functions' processes import the step classes of tests/ (code in the spec is
    deploy-spec's part); every test stops what it started."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


@pytest.fixture(autouse=True)
def stop_all() -> Any:
    yield
    main(["stop", "--all", "--grace", "10"])


def _flow(name: str, tmp_path: Path, *steps: str, queue: str | None = None) -> str:
    fn = sg.new_function(name, kind="serving")
    step: Any = fn.set_topology("flow", engine="sync")
    for index, class_name in enumerate(steps):
        step = step.to(class_name, name=f"s{index}")
    step.respond()
    if queue:
        step.to(">>", "q", path=queue)
    return fn.export(tmp_path / f"{name}.yaml")


def _post(url: str, body: Any) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def _ps(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    assert main(["ps", "-o", "json"]) == 0
    return {r["name"]: r for r in json.loads(capsys.readouterr().out)}


def _alive(pid: int) -> bool:
    from servegraph.functions.platform.registry import pid_alive

    return pid_alive(pid)  # a zombie waiting for init to reap it counts as gone


def test_deploy_ps_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _flow("pids", tmp_path, "tests.serving.steps.Pid")
    assert main(["deploy", spec]) == 0
    name, url = capsys.readouterr().out.split()
    assert name == "pids" and url.startswith("http://127.0.0.1:")
    served_by = _post(url, {"x": 1})["pid"]
    assert served_by != os.getpid()
    record = _ps(capsys)["pids"]
    assert (record["url"], record["state"]) == (url, "running") and _alive(record["pid"])
    assert (get_config().home / "platform" / "pids" / "function.yaml").is_file()
    assert main(["stop", "pids"]) == 0
    assert capsys.readouterr().out.split() == ["pids", "stopped"]
    record = _ps(capsys)["pids"]
    assert (record["state"], record["exit_code"]) == ("stopped", 0)
    assert not _alive(record["pid"]) and not _alive(served_by)
    assert main(["stop", "nope"]) == 1  # unknown name: a clear error
    assert "no deployed function named 'nope'" in capsys.readouterr().err


def test_a_crashed_function_shows_in_ps_with_its_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _flow("crashy", tmp_path, "tests.serving.steps.AddOne")
    assert main(["deploy", spec]) == 0
    url = capsys.readouterr().out.split()[1]
    assert _post(url, {"x": 1}) == {"x": 2}
    with pytest.raises(OSError):
        _post(url, {"crash": 3})  # the process ends mid-request
    deadline = time.monotonic() + 30
    while _ps(capsys)["crashy"]["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    record = _ps(capsys)["crashy"]
    assert (record["state"], record["exit_code"]) == ("crashed", 3)
    assert main(["ps"]) == 0
    out, err = capsys.readouterr()
    assert "crashed (exit 3)" in out
    assert "crashy crashed" in err and "Running on" in err  # the log's tail


def test_a_function_that_cannot_start_fails_deploy_with_its_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _flow("broken", tmp_path, "tests.serving.steps.NoSuchStep")
    assert main(["deploy", spec, "--timeout", "30"]) == 1
    err = capsys.readouterr().err
    assert "exited while starting" in err and "NoSuchStep" in err
    assert _ps(capsys)["broken"]["state"] == "crashed"


async def _read_all(url: str, expected: int) -> list[Any]:
    stream = get_stream(url)
    records: list[Any] = []
    deadline = time.monotonic() + 30
    try:
        while len(records) < expected and time.monotonic() < deadline:
            records += await stream.read("check", "c", count=100, block_ms=200)
    finally:
        await stream.close()
    return [r.data["body"] for r in records]  # a queue pushes {"_event_id", "body", "path"}


def _parent_and_child(tmp_path: Path, extra: list[str], capsys: Any) -> list[Any]:
    parent = _flow("parent", tmp_path, "tests.serving.steps.AddOne", queue="mid")
    child = _flow("child", tmp_path, "tests.serving.steps.Times2", queue="out")
    assert main(["deploy", parent, child, "--source", "child=mid", *extra]) == 0
    lines = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert lines["child"].startswith("consuming")
    answers = [_post(lines["parent"], {"x": x}) for x in (1, 2, 3)]
    assert answers == [{"x": 2}, {"x": 3}, {"x": 4}]  # the parent answers
    records = _ps(capsys)
    assert records["child"]["url"] == "" and records["child"]["state"] == "running"
    base = extra[1] if extra else get_config().stream_path
    out = asyncio.run(_read_all(stream_url_for(base, "out"), 3))
    return [r.get("body", r) for r in out]  # a queue record carries the event's body


def test_child_function_consumes_the_queue_over_the_file_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _parent_and_child(tmp_path, [], capsys)
    assert sorted(r["x"] for r in out) == [4, 6, 8]  # computed in the child's process


def test_child_function_consumes_the_queue_over_redis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], redis_url: str, unique: str
) -> None:
    out = _parent_and_child(tmp_path, ["--stream", f"{redis_url}/{unique}"], capsys)
    assert sorted(r["x"] for r in out) == [4, 6, 8]


def test_python_deploy_local_and_invoke_over_http(capsys: pytest.CaptureFixture[str]) -> None:
    fn = sg.new_function("py-local", kind="serving")
    fn.set_topology("router").add_route("m", class_name="tests.serving.steps.Sum")
    url = fn.deploy(local=True)
    assert url.startswith("http://") and fn.status_address == url
    assert fn.invoke("/v2/models/m/infer", {"inputs": [[1, 2]]})["outputs"] == [3]
    assert _ps(capsys)["py-local"] == {**_ps(capsys)["py-local"], "url": url, "state": "running"}
    with pytest.raises(NotFoundError, match="404"):  # the server's error, as its class
        fn.invoke("/v2/models/none/infer", {"inputs": [[1]]})


def _split_function(unique: str) -> Any:
    fn = sg.new_function("root", kind="serving")
    graph = fn.set_topology("flow", engine="async")
    graph.to("tests.serving.steps.AddOne", name="inc").respond().to(
        ">>", "q", path=f"mid-{unique}"
    ).to("tests.serving.steps.Times2", name="double", function="worker").to(
        ">>", "out", path=f"out-{unique}", function="worker"
    )
    fn.add_child_function("worker")
    return fn


def _worker_output(base: str, unique: str) -> list[int]:
    out = asyncio.run(_read_all(stream_url_for(base, f"out-{unique}"), 2))
    return sorted(r.get("body", r)["x"] for r in out)  # queue records carry the body


def test_python_deploy_local_starts_each_child_function(
    capsys: pytest.CaptureFixture[str], unique: str
) -> None:
    fn = _split_function(unique)
    url = fn.deploy(local=True)
    records = _ps(capsys)
    assert records["root"]["url"] == url
    assert records["worker"]["url"] == "" and records["worker"]["source"] == f"mid-{unique}"
    assert [fn.invoke("/", {"x": x}) for x in (1, 2)] == [{"x": 2}, {"x": 3}]
    assert _worker_output(get_config().stream_path, unique) == [4, 6]  # the worker's process


def test_deploy_of_exported_root_and_child_specs_over_redis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], redis_url: str, unique: str
) -> None:
    fn = _split_function(unique)
    root = fn.export(tmp_path / "root.yaml")
    worker = fn.export(tmp_path / "worker.yaml", function="worker")
    base = f"{redis_url}/{unique}"
    assert main(["deploy", root, worker, "--stream", base]) == 0
    lines = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert lines["worker"] == f"consuming mid-{unique}"
    assert [_post(lines["root"], {"x": x}) for x in (1, 2)] == [{"x": 2}, {"x": 3}]
    assert _worker_output(base, unique) == [4, 6]
