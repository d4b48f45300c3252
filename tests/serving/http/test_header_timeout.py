"""A client that never finishes its request head is disconnected; the others are served.

Runs a real ``servegraph serve`` process: the timeout is aiohttp's connection timer as
``serve`` configures it, which only a real server shows.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import servegraph

APP = textwrap.dedent(
    """
    import servegraph as sg
    fn = sg.new_function("echo", kind="serving")
    fn.set_topology("flow", engine="async").to(name="echo", handler="(event)").respond()
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "app.py").write_text(APP)
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(Path(servegraph.__file__).parent.parent))
    log = tmp_path / "serve.log"
    with log.open("wb") as out, subprocess.Popen(
        [sys.executable, "-m", "servegraph", "serve", str(tmp_path / "app.py"),
         "--port", str(port), "--header-timeout", "1.5"],
        env=env, stdout=out, stderr=subprocess.STDOUT,
    ) as proc:  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/v2/health/live", timeout=2):
                        break
                except OSError:
                    assert proc.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(20)


def _closed_by_server(sock: socket.socket, dribble: bool, limit: float) -> float:
    """Send a request head that never ends (a byte at a time if ``dribble``); return when
    the server closed the connection."""
    start = time.monotonic()
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
    sock.settimeout(0.25)
    while time.monotonic() - start < limit:
        try:
            if sock.recv(1024) == b"":
                return time.monotonic() - start
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - start
        if dribble:
            try:
                sock.sendall(b"X")
            except OSError:
                return time.monotonic() - start
    raise AssertionError(f"the server kept the connection for {limit}s")


@pytest.mark.parametrize("dribble", [False, True])
def test_a_request_head_that_never_ends_is_disconnected(server: str, dribble: bool) -> None:
    port = int(server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as slow:
        # meanwhile, a well-behaved client is answered
        request = urllib.request.Request(
            server + "/",
            data=b'{"a": 1}',
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert json.loads(resp.read()) == {"a": 1}
        waited = _closed_by_server(slow, dribble, limit=30)
    assert waited < 30  # closed by the header timeout, not by the client giving up


def test_the_header_timeout_must_be_positive() -> None:
    from servegraph.errors import ConfigError
    from servegraph.serving.http.app import run_app

    with pytest.raises(ConfigError, match="header timeout must be a positive number"):
        run_app(None, header_timeout=0)  # type: ignore[arg-type]
