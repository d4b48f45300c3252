"""What the local platform knows of each function: a working folder per function.

``$SERVEGRAPH_HOME/platform/<name>/`` holds ``function.yaml`` (the spec the
function runs from: a copy, so the user's files can change or go), ``state.json``
(pid, URL, command, start time), ``output.log`` (the server's stdout and
stderr) and, once the process ended, ``exit.json`` (exit code, and whether a
stop asked for it). The state shown by ``servegraph ps`` is read from these
and from the process table, so it holds across commands and shells.
"""

from __future__ import annotations

import enum
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from servegraph.config import get_config
from servegraph.errors import ConfigError, NotFoundError

STATE_FILE = "state.json"
EXIT_FILE = "exit.json"
LOG_FILE = "output.log"
SPEC_FILE = "function.yaml"


class FunctionState(enum.Enum):
    """What ``ps`` shows for a function."""

    RUNNING = "running"
    STOPPED = "stopped"  # ended after `servegraph stop`
    CRASHED = "crashed"  # ended on its own (non-zero exit, or killed)


@dataclass
class FunctionRecord:
    """One deployed function (``state.json``)."""

    name: str
    pid: int
    url: str  # "" for a stream consumer
    source: str = ""  # the stream it consumes ("" for an HTTP function)
    command: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    state: FunctionState = FunctionState.RUNNING
    exit_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data


def platform_home() -> Path:
    """``$SERVEGRAPH_HOME/platform``."""
    return get_config().home / "platform"


def check_function_name(name: str) -> str:
    """A function name usable as a folder name (letters, digits, ``-``, ``_``, ``.``)."""
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise ConfigError(
            f"A function name must be letters, digits, '-', '_' or '.'. Got {name!r} instead."
        )
    return name


def workdir(name: str) -> Path:
    """The working folder of function ``name``."""
    return platform_home() / check_function_name(name)


def write_record(record: FunctionRecord) -> None:
    path = workdir(record.name) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    data = record.to_dict()
    del data["state"], data["exit_code"]  # derived when read
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def pid_alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie child of this process is reaped, and is not)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: the process table answers
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _is_runner(pid: int, folder: Path) -> bool:
    """The process ``pid`` is this function's runner (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid_alive(pid)
    return str(folder).encode() in cmdline


def read_record(name: str) -> FunctionRecord:
    """The record of function ``name`` with its current state."""
    folder = workdir(name)
    try:
        data = json.loads((folder / STATE_FILE).read_text())
    except FileNotFoundError:
        raise NotFoundError(f"no deployed function named {name!r}") from None
    record = FunctionRecord(**data)
    if pid_alive(record.pid) and _is_runner(record.pid, folder):
        return record
    try:
        ended = json.loads((folder / EXIT_FILE).read_text())
    except (OSError, ValueError):
        ended = {"code": None, "stopped": False}  # killed before it could say
    record.exit_code = ended.get("code")
    record.state = FunctionState.STOPPED if ended.get("stopped") else FunctionState.CRASHED
    return record


def list_records() -> list[FunctionRecord]:
    """Every function deployed under this home, by name."""
    home = platform_home()
    if not home.is_dir():
        return []
    return [read_record(p.parent.name) for p in sorted(home.glob(f"*/{STATE_FILE}"))]


def log_tail(name: str, lines: int = 20) -> str:
    """The last ``lines`` lines of a function's log."""
    path = workdir(name) / LOG_FILE
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
