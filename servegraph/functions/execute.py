"""Execute one run in this process: the code, its context, its log and its record.

Every runtime ends here (in-process for ``local``, in the child process for
``job``, in pool or Dask workers for hyper-parameter children). Output written
to stdout/stderr is masked for secrets, echoed (``watch``) and stored as the
run's log; an exception ends the run in state ``error`` with its message.
"""

from __future__ import annotations

import contextlib
import io
import runpy
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from servegraph.errors import RunError
from servegraph.functions.context import build_context, reset_current, set_current
from servegraph.functions.handler import call_handler, load_handler, log_return


class MaskingTee(io.TextIOBase):
    """A text stream that masks complete lines and writes them to a sink (and an echo)."""

    def __init__(self, mask: Callable[[str], str], sink: list[str], echo: TextIO | None) -> None:
        self._mask, self._sink, self._echo = mask, sink, echo
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            self._emit(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._emit(self._pending)
            self._pending = ""
        if self._echo is not None:
            self._echo.flush()

    def _emit(self, text: str) -> None:
        masked = self._mask(text)
        self._sink.append(masked)
        if self._echo is not None:
            self._echo.write(masked)


@contextlib.contextmanager
def _captured(mask: Callable[[str], str], sink: list[str], watch: bool) -> Iterator[None]:
    out = MaskingTee(mask, sink, sys.stdout if watch else None)
    err = MaskingTee(mask, sink, sys.stderr if watch else None)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # type: ignore[type-var]
        try:
            yield
        finally:
            out.flush()
            err.flush()


def _run_script(command: str) -> None:
    path = Path(command)
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [command]
    sys.path.insert(0, str(path.resolve().parent))
    try:
        runpy.run_path(command, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = old_argv, old_path


def execute(
    run: dict[str, Any],
    secrets: dict[str, str] | None = None,
    rundb: str = "",
    watch: bool = True,
    capture: bool = True,
    store_log: bool = True,
) -> dict[str, Any]:
    """Run ``run`` (a run dict) here and return its final record.

    ``capture=False`` leaves stdout alone (for threads sharing the process); the
    run's log then holds nothing. ``store_log=False`` leaves storing the log to
    the caller (the job runtime stores its child's output as it streams).
    """
    ctx = build_context(run["metadata"]["name"], run, secrets, rundb)
    ctx.set_state("running")
    ctx.commit()
    spec = run["spec"]
    command = str(spec.get("runtime", {}).get("command") or "")
    handler = str(spec.get("handler") or "")
    lines: list[str] = []
    token = set_current(ctx)
    try:
        with _captured(ctx.mask, lines, watch) if capture else contextlib.nullcontext():
            try:
                if not command and not handler:
                    raise RunError("The run has no code: set a command (file) or a handler.")
                if handler:
                    log_return(ctx, call_handler(load_handler(command, handler), ctx))
                else:
                    _run_script(command)
                ctx.set_state("completed")
            except SystemExit as exc:
                if exc.code not in (0, None):
                    ctx.set_state("error", f"SystemExit: exit code {exc.code}")
                else:
                    ctx.set_state("completed")
            except Exception as exc:
                traceback.print_exc()
                ctx.set_state("error", f"{type(exc).__name__}: {exc}")
            except KeyboardInterrupt:
                ctx.set_state("aborted", "interrupted")
                ctx.commit()
                raise
    finally:
        reset_current(token)
    if not ctx.name:
        ctx.set_name(Path(command).stem if command else handler)
    if store_log and ctx.db is not None:
        ctx.db.store_log(ctx.uid, ctx.project, "".join(lines).encode())
    ctx.commit()
    return ctx.to_dict()
