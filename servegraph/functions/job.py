"""Kind ``job``: run the code in a fresh Python subprocess, streaming its log.

The run spec goes to the child in ``$SERVEGRAPH_EXEC_CONFIG`` (secret values
of inline sources in ``$SERVEGRAPH_EXEC_SECRETS``, never recorded); the child
(``python -m servegraph.functions.child``) records the run itself. If the child
dies before recording, the run is recorded here in state ``error``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import servegraph
from servegraph.config import get_config
from servegraph.errors import NotFoundInStoreError
from servegraph.functions.base import Function
from servegraph.functions.context import EXEC_CONFIG_ENV, EXEC_SECRETS_ENV
from servegraph.functions.execute import execute
from servegraph.functions.local import code_file
from servegraph.functions.runspec import now_str
from servegraph.functions.secrets import SecretsStore
from servegraph.storage.rundb import RunDB

_PACKAGE_ROOT = str(Path(servegraph.__file__).resolve().parent.parent)


def child_env(run: dict[str, Any], secrets: dict[str, str], db: RunDB) -> dict[str, str]:
    """The environment of a job's child process."""
    env = dict(os.environ)
    env[EXEC_CONFIG_ENV] = json.dumps(
        run, default=str
    )  # dates etc. as text, as a record keeps them
    env[EXEC_SECRETS_ENV] = json.dumps(secrets)
    env["SERVEGRAPH_DBPATH"] = db.url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _LogWriter:
    """Stores streamed log lines in chunks, so ``servegraph logs`` sees a running job."""

    def __init__(self, db: RunDB, uid: str, project: str, every: float = 1.0) -> None:
        self.db, self.uid, self.project, self.every = db, uid, project, every
        self._lines: list[str] = []
        self._last = time.monotonic()

    def add(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= 100 or time.monotonic() - self._last >= self.every:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self.db.store_log(self.uid, self.project, "".join(self._lines).encode())
            self._lines = []
        self._last = time.monotonic()


def pid_file(uid: str, home: Path | None = None) -> Path:
    """Where a running job's process id is kept (``servegraph ui`` stops a run with it)."""
    return (home or get_config().home) / "pids" / f"{uid}.pid"


def run_subprocess(
    run: dict[str, Any], secrets: dict[str, str], watch: bool, db: RunDB
) -> dict[str, Any]:
    """Run ``run`` in a child process and return the record it stored."""
    tail: deque[str] = deque(maxlen=20)
    log = _LogWriter(db, run["metadata"]["uid"], run["metadata"]["project"])
    store = SecretsStore()
    store.add_sources(run["spec"].get("secret_sources") or [], secrets)
    with subprocess.Popen(
        [sys.executable, "-m", "servegraph.functions.child"],
        env=child_env(run, secrets, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        pids = pid_file(run["metadata"]["uid"])
        pids.parent.mkdir(parents=True, exist_ok=True)
        pids.write_text(str(proc.pid))
        try:
            for raw in proc.stdout:  # masked by the child; masked again for its own crash output
                line = store.mask(raw)
                tail.append(line)
                log.add(line)
                if watch:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            code = proc.wait()
        finally:
            pids.unlink(missing_ok=True)
    log.flush()
    meta = run["metadata"]
    try:
        record = db.read_run(meta["uid"], meta["project"], int(meta.get("iteration") or 0))
    except NotFoundInStoreError:
        record = run
    if record["status"]["state"] in ("created", "running"):
        record["status"]["state"] = "error"
        record["status"]["error"] = f"the job process exited with code {code}: {''.join(tail)}"
        record["status"]["last_update"] = now_str()
        db.store_run(record)
    return record


class JobFunction(Function):
    """Runs in a subprocess (``local=True``: in this process); the image is recorded only."""

    kind = "job"

    def _execute(
        self,
        run: dict[str, Any],
        secrets: dict[str, str],
        watch: bool,
        db: RunDB,
        local: bool | None,
    ) -> dict[str, Any]:
        run["spec"]["runtime"]["command"] = code_file(self)
        if local:  # MLRun semantics: local=True runs the job's code in this process
            return execute(run, secrets=secrets, rundb=db.url, watch=watch)
        return run_subprocess(run, secrets, watch, db)
