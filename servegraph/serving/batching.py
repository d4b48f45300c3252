"""Micro-batching: coalesce concurrent requests into one ``predict`` call.

Each request submits a sequence of rows. A background task gathers pending
requests into a batch of at most ``max_batch_size`` rows (a request bigger
than that is split across batches), waiting at most ``max_batch_wait_ms`` for
the batch to fill, calls ``predict`` once and splits the results back.

- An exception raised by ``predict`` fails only the requests of that batch.
- ``predict`` may return an ``Exception`` instance in place of a row's result:
  it fails only the request that row belongs to.
- A cancelled request is dropped from its batch (or its result discarded);
  the batcher carries on.

>>> import asyncio
>>> async def main():
...     batcher = Batcher(lambda rows: [r * 2 for r in rows], max_batch_size=8)
...     results = await asyncio.gather(*(batcher.submit([i, i]) for i in range(4)))
...     await batcher.close()
...     return results, batcher.batches
>>> asyncio.run(main())
([[0, 0], [2, 2], [4, 4], [6, 6]], 1)
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from servegraph.errors import GraphError, NotReadyError, ServingError

PredictFn = Callable[[Any], Sequence[Any] | Awaitable[Sequence[Any]]]


@dataclass
class _Part:
    """A slice of one request's rows, resolved with that slice's results."""

    rows: Sequence[Any]
    future: asyncio.Future[list[Any]] = field(repr=False)


def concat_rows(chunks: Sequence[Sequence[Any]]) -> Any:
    """Join row chunks: numpy arrays with ``np.concatenate``, anything else as a list."""
    if all(isinstance(chunk, np.ndarray) for chunk in chunks):
        return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    rows: list[Any] = []
    for chunk in chunks:
        rows.extend(chunk)
    return rows


class Batcher:
    """Coalesce concurrent ``submit(rows)`` calls into batched ``predict(rows)`` calls.

    ``predict`` receives the joined rows (a numpy array when every request sent
    one, else a list) and returns one result per row; it may be sync or async.

    >>> batcher = Batcher(model.predict, max_batch_size=64, max_batch_wait_ms=2)  # doctest: +SKIP
    >>> predictions = await batcher.submit(rows)  # doctest: +SKIP
    """

    def __init__(
        self,
        predict: PredictFn,
        max_batch_size: int = 32,
        max_batch_wait_ms: float = 5.0,
        name: str = "batcher",
    ) -> None:
        if not isinstance(max_batch_size, int) or isinstance(max_batch_size, bool):
            max_batch_size = -1
        if max_batch_size < 1:
            raise GraphError(
                f"The 'max_batch_size' parameter of {name} must be a positive int. "
                f"Got {max_batch_size!r} instead."
            )
        if not isinstance(max_batch_wait_ms, int | float) or max_batch_wait_ms < 0:
            raise GraphError(
                f"The 'max_batch_wait_ms' parameter of {name} must be a number >= 0. "
                f"Got {max_batch_wait_ms!r} instead."
            )
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_batch_wait_ms = float(max_batch_wait_ms)
        self.name = name
        self.batches = 0  # number of predict calls made
        self._pending: deque[_Part] = deque()
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def submit(self, rows: Sequence[Any]) -> list[Any]:
        """Queue ``rows`` for prediction and return their results, in order."""
        if self._closed:
            raise NotReadyError(f"{self.name} is closed")
        if len(rows) == 0:
            return []
        loop = asyncio.get_running_loop()
        size = self.max_batch_size
        parts = [
            _Part(rows[start : start + size], loop.create_future())
            for start in range(0, len(rows), size)
        ]
        self._pending.extend(parts)
        self._ensure_worker()
        assert self._wakeup is not None
        self._wakeup.set()
        try:
            chunks = await asyncio.gather(*(part.future for part in parts))
        except BaseException:
            for part in parts:
                if not part.future.cancel() and not part.future.cancelled():
                    part.future.exception()  # retrieved: no "never retrieved" log
            raise
        results: list[Any] = []
        for chunk in chunks:
            results.extend(chunk)
        return results

    def _ensure_worker(self) -> None:
        """Start the worker task if it is not running on this loop."""
        loop = asyncio.get_running_loop()
        if self._worker is not None and self._loop is loop and not self._worker.done():
            return
        self._loop = loop
        self._wakeup = asyncio.Event()
        self._pending = deque(
            p for p in self._pending if not p.future.done() and p.future.get_loop() is loop
        )
        self._worker = loop.create_task(self._run(), name=f"{self.name}-worker")

    def _take_batch(self) -> list[_Part]:
        batch: list[_Part] = []
        rows = 0
        while self._pending:
            part = self._pending[0]
            if part.future.done():  # cancelled while waiting
                self._pending.popleft()
                continue
            if rows + len(part.rows) > self.max_batch_size:
                break
            batch.append(self._pending.popleft())
            rows += len(part.rows)
        return batch

    def _live_rows(self) -> int:
        return sum(len(p.rows) for p in self._pending if not p.future.done())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self._loop_batches()
        finally:  # never leave a request of this loop waiting on a dead worker
            mine = [p for p in self._pending if p.future.get_loop() is loop]
            if mine:
                self._fail(mine, NotReadyError(f"{self.name} stopped"))
                self._pending = deque(p for p in self._pending if p.future.get_loop() is not loop)

    async def _loop_batches(self) -> None:
        assert self._wakeup is not None
        wakeup = self._wakeup
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                return  # idle: the next submit starts a new worker (none left pending at exit)
            deadline = loop.time() + self.max_batch_wait_ms / 1000
            await asyncio.sleep(0)  # let requests that are already running enqueue
            while self._live_rows() < self.max_batch_size:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                wakeup.clear()
                try:
                    await asyncio.wait_for(wakeup.wait(), remaining)
                except TimeoutError:
                    break
            batch = self._take_batch()
            if batch:
                await self._execute(batch)

    async def _execute(self, batch: list[_Part]) -> None:
        self.batches += 1
        try:
            results = self.predict(concat_rows([part.rows for part in batch]))
            if inspect.isawaitable(results):
                results = await results
            results = list(results)
            total = sum(len(part.rows) for part in batch)
            if len(results) != total:
                raise ServingError(
                    f"{self.name}: predict returned {len(results)} results for {total} rows"
                )
        except asyncio.CancelledError:
            self._fail(batch, NotReadyError(f"{self.name} was closed during a batch"))
            raise
        except Exception as exc:
            self._fail(batch, exc)
            return
        offset = 0
        for part in batch:
            chunk = results[offset : offset + len(part.rows)]
            offset += len(part.rows)
            if part.future.done():
                continue
            error = next((item for item in chunk if isinstance(item, Exception)), None)
            if error is not None:
                part.future.set_exception(error)
            else:
                part.future.set_result(chunk)

    @staticmethod
    def _fail(batch: Sequence[_Part], exc: BaseException) -> None:
        for part in batch:
            if not part.future.done():
                part.future.set_exception(exc)

    async def close(self) -> None:
        """Stop the worker; requests still waiting fail with NotReadyError."""
        self._closed = True
        worker, self._worker = self._worker, None
        if worker is not None and not worker.done():
            worker.cancel()
            try:
                await worker
            except asyncio.CancelledError:
                pass
        self._fail(list(self._pending), NotReadyError(f"{self.name} is closed"))
        self._pending.clear()
