"""A rich progress bar for long ingestions, shown only when stdout is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import storey
from rich.progress import Progress

MIN_ROWS = 10_000
_EVERY = 1_000


@contextmanager
def progress_step(
    total: int, description: str, force: bool | None = None
) -> Iterator[storey.Flow | None]:
    """Yield a storey Map that advances a progress bar per row, or None when not shown.

    ``force``: True always shows the bar, False never, None (default) shows it on a
    terminal for ``MIN_ROWS`` rows or more.
    """
    auto = total >= MIN_ROWS and sys.stdout.isatty()
    if not (auto if force is None else force):
        yield None
        return
    with Progress(transient=True) as progress:
        task = progress.add_task(description, total=total)
        seen = [0]

        def tick(body: Any) -> Any:
            seen[0] += 1
            if seen[0] % _EVERY == 0 or seen[0] == total:
                progress.update(task, completed=seen[0])
            return body

        yield storey.Map(tick)
