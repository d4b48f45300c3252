"""Start and stop the local platform's functions (one detached process each).

A function starts from its spec alone: the spec is copied into the function's
working folder (:mod:`.registry`) and ``servegraph serve function.yaml`` runs
there, on a free port of ``host`` (an HTTP function) or consuming a stream
(``source``: a child function fed by a queue step). Every process gets the
same ``SERVEGRAPH_HOME`` and stream base (``SERVEGRAPH_STREAM_PATH``: the
file log under the home by default, Redis by URL), so a queue step that names
a stream (``path="mid"``) and the consumer started with ``source="mid"`` meet.

>>> record = start(Deployment("scores", Path("function.yaml")))  # doctest: +SKIP
>>> record.url                                                     # doctest: +SKIP
'http://127.0.0.1:41234'
>>> stop("scores")                                                 # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from servegraph.config import get_config
from servegraph.errors import ConfigError, DeployError
from servegraph.functions.platform.registry import (
    EXIT_FILE,
    LOG_FILE,
    SPEC_FILE,
    FunctionRecord,
    FunctionState,
    check_function_name,
    log_tail,
    pid_alive,
    read_record,
    workdir,
    write_record,
)
from servegraph.serving.nuclio_spec import SERVING_SPEC_ENV

RUNNER = "servegraph.functions.platform.runner"
CONSUMING = "servegraph: consuming"  # what `serve --source` prints once it reads the stream


@dataclass
class Deployment:
    """One function to start: its name, its spec file, and the stream it consumes.

    ``source`` is the ``--source`` to give ``servegraph serve``; a child function's
    spec (``fn.export(path, function=child)``) names its own (``stream_source``).
    """

    name: str
    spec: Path
    source: str = ""

    @property
    def consumes(self) -> str:
        """The stream this function reads ("" for an HTTP function)."""
        return self.source or spec_stream_source(self.spec)


def _document(spec: Path) -> Any:
    if spec.suffix not in (".yaml", ".yml", ".json"):
        return None
    try:
        return yaml.safe_load(spec.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"SPEC {str(spec)!r} cannot be read: {exc}") from exc


def spec_stream_source(spec: Path) -> str:
    """The queue a child function's exported spec consumes (``stream_source``), or ""."""
    document = _document(spec)
    if not isinstance(document, dict):
        return ""
    serving: Any = document
    if document.get("kind") == "NuclioFunction":
        env = (document.get("spec") or {}).get("env") or []
        values = [e.get("value") for e in env if e.get("name") == SERVING_SPEC_ENV]
        serving = json.loads(values[0]) if values else {}
    elif isinstance(document.get("spec"), dict):
        serving = document["spec"]
    source = serving.get("stream_source") if isinstance(serving, dict) else None
    return str(source) if source else ""


def function_name(spec: Path) -> str:
    """The name a spec gives its function (Nuclio ``metadata.name``), else the file's stem."""
    document = _document(spec)
    if isinstance(document, dict):
        name = (document.get("metadata") or {}).get("name")
        if not name and isinstance(document.get("function_uri"), str):
            name = document["function_uri"].split("/")[-1].split(":")[0]
        if isinstance(name, str) and name:
            return name
    return spec.stem


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(stream: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["SERVEGRAPH_HOME"] = str(get_config().home.resolve())
    if stream:
        env["SERVEGRAPH_STREAM_PATH"] = stream
    else:
        env.setdefault("SERVEGRAPH_STREAM_PATH", get_config().stream_path)
    return env


def start(
    deployment: Deployment,
    *,
    host: str = "127.0.0.1",
    stream: str | None = None,
    timeout: float = 60.0,
) -> FunctionRecord:
    """Start (or restart) one function and wait until it serves; return its record.

    Raises DeployError, with the end of its log, when it exits or does not
    answer ``/v2/health/ready`` within ``timeout`` seconds.
    """
    name = check_function_name(deployment.name)
    if not deployment.spec.is_file():
        raise ConfigError(f"SPEC {str(deployment.spec)!r} is not a file.")
    folder = workdir(name)
    if (folder / "state.json").exists():
        stop(name)  # a redeploy replaces the running function
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (EXIT_FILE, LOG_FILE):
        (folder / stale).unlink(missing_ok=True)
    spec_file = SPEC_FILE if deployment.spec.suffix != ".py" else deployment.spec.name
    shutil.copyfile(deployment.spec, folder / spec_file)
    command = [sys.executable, "-m", "servegraph", "serve", spec_file]
    url = ""
    consumes = deployment.consumes
    if deployment.source:
        command += ["--source", deployment.source]
    elif not consumes:
        port = _free_port(host)
        command += ["--host", host, "--port", str(port)]
        url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    launched = subprocess.run(
        [sys.executable, "-m", RUNNER, str(folder), "--", *command],
        cwd=folder, env=_environment(stream), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if launched.returncode != 0 or not launched.stdout.strip().isdigit():
        raise DeployError(f"cannot start function {name!r}: {launched.stderr.strip()}")
    record = FunctionRecord(
        name=name, pid=int(launched.stdout.strip()), url=url,
        source=consumes, command=command,
    )  # fmt: skip
    write_record(record)
    _wait_started(record, timeout)
    return record


def _wait_started(record: FunctionRecord, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        current = read_record(record.name)
        if current.state is not FunctionState.RUNNING:
            raise DeployError(
                f"function {record.name!r} exited while starting (code {current.exit_code}); "
                f"its log ({workdir(record.name) / LOG_FILE}) ends with:\n{log_tail(record.name)}"
            )
        if record.url and _ready(record.url):
            return
        if not record.url and CONSUMING in log_tail(record.name):
            return  # a stream consumer: its log says when it consumes
        if time.monotonic() > deadline:
            what = f"answer {record.url}/v2/health/ready" if record.url else "start consuming"
            raise DeployError(
                f"function {record.name!r} did not {what} within {timeout}s; "
                f"its log ends with:\n{log_tail(record.name)}"
            )
        time.sleep(0.1)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop(name: str, grace: float = 30.0) -> FunctionRecord:
    """Stop a function: SIGTERM, wait up to ``grace`` seconds, then SIGKILL its process group."""
    record = read_record(name)
    if record.state is not FunctionState.RUNNING:
        return record
    try:
        os.kill(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        return read_record(name)
    deadline = time.monotonic() + grace
    while pid_alive(record.pid):
        if time.monotonic() > deadline:
            try:
                os.killpg(record.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _write_exit(name, {"code": -signal.SIGKILL, "stopped": True})
            break
        time.sleep(0.05)
    return read_record(name)


def _write_exit(name: str, data: dict[str, Any]) -> None:
    path = workdir(name) / EXIT_FILE
    if not path.exists():
        path.write_text(json.dumps(data))
