"""``servegraph serve SPEC --workers N``: N worker processes sharing one port.

Each worker is ``servegraph serve SPEC --reuse-port`` in its own process: it
builds the graph from the spec and listens on the same host and port with
``SO_REUSEPORT``, so the kernel spreads connections over the workers. The
supervisor (this module, in the parent process)

- holds the port (``--port 0`` picks a free one, printed),
- restarts a worker that dies while serving (not one that fails before it
  serves, nor past ``MAX_STARTS`` starts per worker: then every worker is
  stopped and the command fails),
- on SIGTERM/SIGINT sends SIGTERM to every worker (each drains its requests
  and runs the graph's close hooks), waits ``grace`` seconds, then kills,
- gives the workers one ``SERVEGRAPH_METRICS_DIR`` so ``/metrics`` of any
  worker covers all of them (:mod:`servegraph.serving.http.metrics_shared`).

>>> serve_workers(["fn.yaml"], workers=2, host="0.0.0.0", port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from servegraph.errors import ConfigError
from servegraph.serving.http.metrics_shared import METRICS_DIR_ENV, WORKER_ID_ENV

MAX_STARTS = 10  # per worker slot, restarts included: past that the command fails
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """In a worker, before exec: SIGTERM when the supervisor dies (Linux), so a killed
    supervisor leaves no worker holding the port."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: workers stop with a graceful stop only


def reserve_port(host: str, port: int) -> socket.socket:
    """Bind (without listening) a SO_REUSEPORT socket that holds ``port`` (0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot bind {host}:{port} for the workers: {exc}") from exc
    return sock


class Supervisor:
    """Starts, watches and stops the worker processes (see the module docstring)."""

    def __init__(self, worker_args: Sequence[str], workers: int, grace: float) -> None:
        if not isinstance(workers, int) or workers < 1:
            raise ConfigError(
                f"The '--workers' parameter of serve must be a positive int. Got {workers!r}."
            )
        self.worker_args = list(worker_args)
        self.workers = workers
        self.grace = grace
        self.metrics_dir = tempfile.mkdtemp(prefix="servegraph-metrics-")
        self.processes: dict[int, tuple[subprocess.Popen[bytes], str]] = {}
        self.started = 0  # worker processes started, restarts included
        self.stopping = threading.Event()

    def _start(self, index: int) -> None:
        self.started += 1
        worker_id = f"{index}.{self.started}"  # a restarted worker adds to, never overwrites,
        env = dict(os.environ, **{METRICS_DIR_ENV: self.metrics_dir, WORKER_ID_ENV: worker_id})
        command = [sys.executable, "-m", "servegraph", "serve", *self.worker_args, "--reuse-port"]
        process = subprocess.Popen(command, env=env, preexec_fn=die_with_parent)
        self.processes[index] = (process, worker_id)  # its predecessor's counters

    def _serving(self, worker_id: str) -> bool:
        """The worker got as far as serving (its app started and wrote its metrics file)."""
        return (Path(self.metrics_dir) / f"worker-{worker_id}.json").exists()

    def run(self) -> int:
        """Serve until a signal (exit code 0) or a worker fails at start-up (1)."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for index in range(self.workers):
                self._start(index)
            return self._watch()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def _watch(self) -> int:
        while not self.stopping.wait(POLL_SECONDS):
            for index, (process, worker_id) in list(self.processes.items()):
                code = process.poll()
                if code is None:
                    continue
                if not self._serving(worker_id) or self.started >= MAX_STARTS * self.workers:
                    print(
                        f"servegraph: worker {index} (pid {process.pid}) exited with code "
                        f"{code} {'while starting' if not self._serving(worker_id) else 'again'}"
                        "; stopping the other workers",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
                print(
                    f"servegraph: worker {index} (pid {process.pid}) exited with code {code}; "
                    "restarting it",
                    file=sys.stderr,
                    flush=True,
                )
                self._start(index)
        return 0

    def stop(self) -> None:
        """SIGTERM every worker, wait up to ``grace`` (+5 s), then SIGKILL the rest."""
        running = [p for p, _ in self.processes.values() if p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace + 5.0
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve_workers(
    worker_args: Sequence[str], *, workers: int, host: str, port: int, grace: float = 30.0
) -> int:
    """Run ``workers`` processes of ``servegraph serve`` on ``host:port`` (blocking).

    ``worker_args`` are the serve arguments each worker gets (the spec and its
    options, without ``--host``/``--port``/``--workers``).
    """
    holder = reserve_port(host, port)
    try:
        port = holder.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        print(f"servegraph: {workers} workers on http://{shown}:{port}", flush=True)
        args = [*worker_args, "--host", host, "--port", str(port)]
        return Supervisor(args, workers, grace).run()
    finally:
        holder.close()
