"""``servegraph serve --workers N``: real worker processes on one port."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

import servegraph as sg

ROOT = Path(sg.__file__).resolve().parent.parent


def _spec(tmp_path: Path) -> str:
    fn = sg.new_function("pids", kind="serving")
    fn.set_topology("flow", engine="sync").to("tests.serving.steps.Pid", name="pid").respond()
    return fn.export(tmp_path / "function.yaml")


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "serve.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "servegraph", "serve", *args],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    return proc, log


def _base_url(proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 60
    while True:
        found = re.search(r"workers on (http://\S+)", log.read_text())
        if found:
            return found.group(1)
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def _get(url: str, data: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.read()


def _requests_total(base: str) -> float:
    text = _get(f"{base}/metrics").decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "servegraph_requests_total"
    )


def test_workers_share_the_port_metrics_cover_all_and_stop_gracefully(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    proc, log = _start(tmp_path, spec, "--workers", "2", "--host", "127.0.0.1",
                       "--port", "0", "--grace", "5")  # fmt: skip
    try:
        base = _base_url(proc, log)
        answered = 0  # every response except /metrics is counted by some worker
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/v2/health/ready")
                answered += 1
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        pids: set[int] = set()
        while (len(pids) < 2 or answered < 20) and time.monotonic() < deadline:
            # a new connection per request: the kernel spreads them over the workers
            # that listen (the second may still be loading the graph)
            body = _get(f"{base}/", b'{"x": 1}')
            answered += 1
            pids.add(json.loads(body)["pid"])
            time.sleep(0.01)
        assert len(pids) == 2, f"one worker answered everything: {pids}\n{log.read_text()}"
        assert proc.pid not in pids
        while _requests_total(base) != answered:  # other workers' counters, up to 0.5 s stale
            assert time.monotonic() < deadline, (_requests_total(base), answered)
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
        for pid in pids:  # the workers stopped with the supervisor
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            raise AssertionError(f"worker {pid} is still running")
    finally:
        if proc.poll() is None:
            proc.kill()  # the workers get SIGTERM when their supervisor dies
            proc.wait()


def test_a_worker_that_dies_while_serving_is_replaced_and_its_counts_kept(
    tmp_path: Path,
) -> None:
    proc, log = _start(tmp_path, _spec(tmp_path), "--workers", "2", "--host", "127.0.0.1",
                       "--port", "0", "--grace", "5")  # fmt: skip
    try:
        base = _base_url(proc, log)
        deadline = time.monotonic() + 90
        answered, pids = 0, set()

        def ask() -> None:
            nonlocal answered
            try:
                pids.add(json.loads(_get(f"{base}/", b'{"x": 1}'))["pid"])
                answered += 1
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)

        while len(pids) < 2 and time.monotonic() < deadline:
            ask()
        assert len(pids) == 2, log.read_text()
        while _requests_total(base) != answered:  # every worker's counters written
            assert time.monotonic() < deadline
            time.sleep(0.2)
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        first = set(pids)
        while not (pids - first) and time.monotonic() < deadline:
            ask()  # the survivor answers meanwhile; the replacement joins
        assert pids - first, log.read_text()
        assert "restarting it" in log.read_text()
        while _requests_total(base) != answered:  # the dead worker's requests still count
            assert time.monotonic() < deadline, (_requests_total(base), answered)
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_killed_supervisor_takes_its_workers_along(tmp_path: Path) -> None:
    proc, log = _start(tmp_path, _spec(tmp_path), "--workers", "2", "--host", "127.0.0.1",
                       "--port", "0")  # fmt: skip
    try:
        base = _base_url(proc, log)
        deadline = time.monotonic() + 60
        pids: set[int] = set()
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                pids.add(json.loads(_get(f"{base}/", b'{"x": 1}'))["pid"])
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert len(pids) == 2, log.read_text()
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 30
    while any(_running(pid) for pid in pids):
        assert time.monotonic() < deadline, f"workers {pids} outlived a killed supervisor"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    from servegraph.functions.platform.registry import pid_alive

    return pid_alive(pid)


def test_workers_that_fail_to_start_fail_the_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: NuclioFunction\nspec: {env: []}\n")
    proc, log = _start(tmp_path, str(bad), "--workers", "2", "--host", "127.0.0.1", "--port", "0")
    try:
        assert proc.wait(timeout=60) == 1, log.read_text()
        assert "exited with code" in log.read_text() and "SERVING_SPEC_ENV" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
