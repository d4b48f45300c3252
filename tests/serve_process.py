"""``servegraph serve`` in a real subprocess, for tests about processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import servegraph

ROOT = Path(servegraph.__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port free right now on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def servegraph_env(**extra: str) -> dict[str, str]:
    """The environment of a servegraph subprocess: this tree importable, nothing else."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


@contextmanager
def serve_process(
    spec: Path, cwd: Path, *args: str, http: bool = True, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``servegraph serve SPEC *args`` in ``cwd``; yield its base URL once ready.

    ``http=False`` serves a stream (``--source``): the process is only started.
    Stops it with SIGTERM (then kill) and fails with its log when it died early.
    """
    port = free_port()
    log = cwd.parent / f"serve-{spec.stem}-{port}.log"
    argv = [sys.executable, "-m", "servegraph", "serve", str(spec), *args]
    if http:
        argv += ["--host", "127.0.0.1", "--port", str(port), "--grace", "5"]
    with (
        log.open("wb") as out,
        subprocess.Popen(
            argv, cwd=cwd, env=env or servegraph_env(), stdout=out, stderr=subprocess.STDOUT
        ) as proc,
    ):
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while http:
                try:
                    with urllib.request.urlopen(f"{base}/v2/health/ready", timeout=2):
                        break
                except OSError:
                    assert proc.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, f"server did not start\n{log.read_text()}"
                    time.sleep(0.2)
            yield base
            assert proc.poll() is None, f"the server died\n{log.read_text()}"
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def post(url: str, body: Any) -> tuple[int, Any]:
    """POST ``body`` as JSON; return ``(status, decoded JSON body)``."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
