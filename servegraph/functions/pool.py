"""A warm pool of worker processes for parallel hyper-parameter children.

One zygote process (``python -m servegraph.functions.pool``) imports
servegraph once, then forks the workers, so N workers cost one interpreter
start and one import instead of N; each worker executes one child run after
another, loading the child's code from the function's code file. The caller's
``__main__`` is never imported (multiprocessing's spawn and forkserver do, so a
script without ``if __name__ == "__main__":`` re-ran itself in every worker).
The pool stays alive between hyper-parameter runs of the same process and
environment, so only the first run pays for starting it.

Protocol: each worker has its own pair of pipes; one JSON line per child in
(run, secrets, run database URL), one JSON line out (the final run record).
The worker's fd 1 goes to stderr, so nothing the code prints reaches the pipes.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import servegraph
from servegraph.functions.runspec import now_str

_PACKAGE_ROOT = str(Path(servegraph.__file__).resolve().parent.parent)


class _Worker:
    """The parent's end of one worker's pipes."""

    def __init__(self, requests: int, answers: int) -> None:
        self.requests = os.fdopen(requests, "w", buffering=1)
        self.answers = os.fdopen(answers, "r")

    def call(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Send one child; its final record, or None if the worker died."""
        try:
            self.requests.write(json.dumps(request, default=str) + "\n")
            self.requests.flush()
            line = self.answers.readline()
        except OSError:  # BrokenPipeError: the worker is gone
            return None
        if not line:
            return None
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        for stream in (self.requests, self.answers):
            try:
                stream.close()  # end of input: the worker exits
            except OSError:
                pass


def _start(count: int, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], list[_Worker]]:
    """Start a zygote that forks ``count`` workers; return it and the workers' pipe ends."""
    workers, theirs, pairs = [], [], []
    for _ in range(count):
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        theirs += [req_r, ans_w]
        pairs.append(f"{req_r}:{ans_w}")
        workers.append(_Worker(req_w, ans_r))
    zygote = subprocess.Popen(
        [sys.executable, "-m", "servegraph.functions.pool", *pairs],
        pass_fds=theirs,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    for fd in theirs:
        os.close(fd)
    return zygote, workers


class WarmPool:
    """``size`` worker processes started together and reused for every child."""

    def __init__(self, size: int, env: dict[str, str]) -> None:
        self.size, self.env = size, env
        zygote, self._workers = _start(size, env)
        self._zygotes = [zygote]
        self._lock = threading.Lock()

    def map(
        self, children: list[dict[str, Any]], secrets: dict[str, str], rundb: str
    ) -> list[dict[str, Any]]:
        """Run every child on the workers; results in the children's order."""
        with self._lock:  # one batch at a time per pool
            todo: queue.Queue[int] = queue.Queue()
            for index in range(len(children)):
                todo.put(index)
            results: list[dict[str, Any] | None] = [None] * len(children)

            def drain(slot: int) -> None:
                while True:
                    try:
                        index = todo.get_nowait()
                    except queue.Empty:
                        return
                    child = children[index]
                    request = {"run": child, "secrets": secrets, "rundb": rundb}
                    answer = self._workers[slot].call(request)
                    if answer is None:  # the worker died with the child: record it, replace it
                        answer = _died(child, rundb)
                        self._workers[slot].close()
                        zygote, (self._workers[slot],) = _start(1, self.env)
                        self._zygotes.append(zygote)
                    results[index] = answer

            threads = [
                threading.Thread(target=drain, args=(slot,), daemon=True)
                for slot in range(min(self.size, len(children)))
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return [r for r in results if r is not None]

    def close(self) -> None:
        with self._lock:  # after the batch in flight, if any
            for worker in self._workers:
                worker.close()
        for zygote in self._zygotes:  # exits once its workers have
            try:
                zygote.wait(timeout=10)
            except subprocess.TimeoutExpired:
                zygote.kill()
                zygote.wait()


def _died(child: dict[str, Any], rundb: str) -> dict[str, Any]:
    from servegraph.errors import NotFoundInStoreError
    from servegraph.storage.rundb import get_run_db

    db = get_run_db(rundb or None)
    meta = child["metadata"]
    try:
        record = db.read_run(meta["uid"], meta["project"], int(meta.get("iteration") or 0))
    except NotFoundInStoreError:
        record = child
    record["status"].update(
        state="error",
        error="the worker process died while running this child (the code exited or crashed)",
        last_update=now_str(),
    )
    db.store_run(record)
    return record


_pool: WarmPool | None = None
_pool_lock = threading.Lock()


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["SERVEGRAPH_CWD"] = os.getcwd()
    return env


def get_pool(size: int) -> WarmPool:
    """The process's warm pool of at least ``size`` workers (new if the environment changed)."""
    global _pool
    env = _worker_env()
    with _pool_lock:
        if _pool is not None and (_pool.size < size or _pool.env != env):
            _pool.close()
            _pool = None
        if _pool is None:
            _pool = WarmPool(size, env)
        return _pool


def shutdown() -> None:
    """Stop the warm pool's workers (also done at exit)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


atexit.register(shutdown)


def run_in_pool(
    children: list[dict[str, Any]], secrets: dict[str, str], parallel: int, rundb: str = ""
) -> list[dict[str, Any]]:
    """Run hyper-parameter children ``parallel`` at a time on the warm pool."""
    return get_pool(parallel).map(children, secrets, rundb)


def _serve(requests: int, answers: int) -> None:
    """A worker: execute child runs read from ``requests`` until it closes."""
    from servegraph.functions.execute import execute

    os.dup2(2, 1)  # whatever the code writes to fd 1 stays out of the answers
    with os.fdopen(requests, "r") as inp, os.fdopen(answers, "w", buffering=1) as out:
        for line in inp:
            request = json.loads(line)
            record = execute(
                request["run"], secrets=request["secrets"], rundb=request["rundb"], watch=False
            )
            out.write(json.dumps(record, default=str) + "\n")
            out.flush()


def main(pairs: list[str]) -> None:
    """The zygote: import servegraph once, fork one worker per ``REQ:ANS`` fd pair, wait."""
    os.chdir(os.environ.get("SERVEGRAPH_CWD") or ".")
    import servegraph.functions.execute  # noqa: F401  (the import the workers share)

    fds = [tuple(int(fd) for fd in pair.split(":")) for pair in pairs]
    for index, (requests, answers) in enumerate(fds):
        if os.fork() == 0:  # the worker
            for other, (r, w) in enumerate(fds):
                if other != index:
                    os.close(r)
                    os.close(w)
            code = 0
            try:
                _serve(requests, answers)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
    for requests, answers in fds:
        os.close(requests)
        os.close(answers)
    for _ in fds:
        os.wait()
    os._exit(0)  # nothing to tear down: skip the interpreter's exit work


if __name__ == "__main__":
    main(sys.argv[1:])
