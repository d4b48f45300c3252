"""Run a serving graph over a data set: every row is one event, answers keep row order.

:func:`run_rows` is the engine (``servegraph batch`` and Python code share it):
``concurrency`` rows run at once on one event loop through
``GraphServer.run_async``, each answer lands at its row's index, and a row
whose event fails is kept with its error instead of stopping the run.

Each row becomes the event body (a dict of column values, path ``/``), or, for a
V2 model path (``/v2/models/m/infer``), ``{"inputs": [[values...]]}`` whose
first output is the row's ``prediction``.

>>> results = await run_rows(server, rows, concurrency=8)  # doctest: +SKIP
>>> results[0].output, results[3].error                   # doctest: +SKIP
({'y': 3}, None)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from servegraph.errors import ConfigError, ServegraphError
from servegraph.serving.event import Event, Response

MODEL_PREFIX = "/v2/models/"
OUTPUT_COLUMN = "output"  # the column of an answer that is not a dict
PREDICTION_COLUMN = "prediction"  # the column of a V2 model's first output


@dataclass
class RowResult:
    """The answer to one row: ``output`` (columns to add) or ``error``."""

    output: dict[str, Any] | None = None
    error: str | None = None


def row_event(row: dict[str, Any], path: str) -> Event:
    """The event for one row (see the module docstring)."""
    if path.startswith(MODEL_PREFIX):
        return Event(body={"inputs": [list(row.values())]}, path=path, method="POST")
    return Event(body=dict(row), path=path, method="POST")


def row_output(response: Response, path: str) -> dict[str, Any]:
    """The columns an answer adds to its row."""
    body = response.body
    if response.status_code >= 400:
        raise ServegraphError(f"the graph answered {response.status_code}: {body!r}")
    if path.startswith(MODEL_PREFIX) and isinstance(body, dict) and "outputs" in body:
        outputs = body["outputs"]
        first = outputs[0] if isinstance(outputs, list) and len(outputs) == 1 else outputs
        return {PREDICTION_COLUMN: first}
    if isinstance(body, dict):
        return dict(body)
    return {OUTPUT_COLUMN: body}


async def run_rows(
    server: Any,
    rows: Sequence[dict[str, Any]],
    *,
    path: str = "/",
    concurrency: int = 8,
    on_done: Callable[[int], None] | None = None,
) -> list[RowResult]:
    """Run every row through ``server`` (an initialised GraphServer); results in row order.

    ``on_done(n)`` is called as rows finish (``n`` rows since the last call),
    e.g. to advance a progress bar.
    """
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(
            f"The 'concurrency' parameter of run_rows must be a positive int. "
            f"Got {concurrency!r} instead."
        )
    results: list[RowResult] = [RowResult() for _ in rows]
    next_index = iter(range(len(rows)))

    async def worker() -> None:
        for index in next_index:  # the shared iterator hands each row to one worker
            try:
                response = await server.run_async(row_event(rows[index], path))
                results[index].output = row_output(response, path)
            except Exception as exc:  # one bad row must not stop the run
                results[index].error = f"{type(exc).__name__}: {exc}"
            if on_done is not None:
                on_done(1)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, max(len(rows), 1)))))
    return results
