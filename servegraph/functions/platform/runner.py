"""The process the local platform starts per function: ``python -m ...runner WORKDIR -- CMD``.

It detaches first (forks, prints the detached pid, and the first process
exits: the function outlives the command that deployed it, in a session of
its own), then runs CMD (``servegraph serve ...``) in WORKDIR, its output in the
function's log, forwards SIGTERM/SIGINT to it (the server drains and runs its
close hooks), and when CMD ends writes ``exit.json``: the exit code and
whether a stop asked for it. That file is how ``servegraph ps`` tells a
stopped function from a crashed one after the deploying command is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from servegraph.functions.platform.registry import EXIT_FILE, LOG_FILE
from servegraph.serving.workers import die_with_parent


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m servegraph.functions.platform.runner WORKDIR -- CMD...")
        return 2
    folder = Path(argv[0])
    pid = os.fork()
    if pid:
        print(pid, flush=True)  # the deployer reads the detached pid
        return 0
    os.setsid()
    with open(os.devnull, "rb") as null, (folder / LOG_FILE).open("ab") as log:
        os.dup2(null.fileno(), 0)
        os.dup2(log.fileno(), 1)  # the deployer's pipe closes: it stops waiting
        os.dup2(log.fileno(), 2)
    return supervise(folder, argv[2:])


def supervise(folder: Path, command: list[str]) -> int:
    """Run ``command``, forwarding stop signals; write ``exit.json`` when it ends."""
    stopped = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopped
        stopped = True
        if child is not None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)  # before the start: no window to lose a stop
    signal.signal(signal.SIGINT, forward)
    child = subprocess.Popen(command, cwd=folder, preexec_fn=die_with_parent)
    if stopped:  # a stop came while it started
        child.send_signal(signal.SIGTERM)
    code = child.wait()
    tmp = folder / f"{EXIT_FILE}.tmp"
    tmp.write_text(json.dumps({"code": code, "stopped": stopped}))
    tmp.replace(folder / EXIT_FILE)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
