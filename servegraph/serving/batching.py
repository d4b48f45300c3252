"""Micro-batching: coalesce concurrent requests into one ``predict`` call.

Each request submits a sequence of rows. A background task gathers pending
requests into a batch of at most ``max_batch_size`` rows (a request bigger
than that is split across batches), waiting at most ``max_batch_wait_ms`` for
the batch to fill, calls ``predict`` once and splits the results back. With
``max_batch_rows`` the batch fills by requests and by rows: up to
``max_batch_size`` requests and ``max_batch_rows`` rows, so multi-row
requests batch as well as one-row ones (64 requests of 32 rows make one batch
with ``max_batch_size=64, max_batch_rows=2048``, not 32 batches of two).

- An exception raised by ``predict`` fails only the requests of that batch.
- ``predict`` may return an ``Exception`` instance in place of a row's result:
  it fails only the request that row belongs to.
- numpy rows are only batched with rows of the same shape (others wait for
  the next batch), so one client's shape never fails another's request.
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
import weakref
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


@dataclass
class _Queue:
    """The pending parts and the worker of one event loop."""

    pending: deque[_Part] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    worker: asyncio.Task[None] | None = None


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
        max_batch_rows: int | None = None,
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
        if max_batch_rows is not None and (
            not isinstance(max_batch_rows, int) or isinstance(max_batch_rows, bool)
            or max_batch_rows < 1
        ):  # fmt: skip
            raise GraphError(
                f"The 'max_batch_rows' parameter of {name} must be a positive int. "
                f"Got {max_batch_rows!r} instead."
            )
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_batch_rows = max_batch_rows
        # rows only (the default), or requests and rows
        self._row_limit = max_batch_rows if max_batch_rows is not None else max_batch_size
        self._request_limit = max_batch_size if max_batch_rows is not None else None
        self.max_batch_wait_ms = float(max_batch_wait_ms)
        self.name = name
        self.batches = 0  # number of predict calls made
        # one queue and worker per event loop (a loop's state is only touched on its thread)
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )
        self._closed = False

    async def submit(self, rows: Sequence[Any]) -> list[Any]:
        """Queue ``rows`` for prediction and return their results, in order."""
        if self._closed:
            raise NotReadyError(f"{self.name} is closed")
        if len(rows) == 0:
            return []
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        size = self._row_limit
        parts = [
            _Part(rows[start : start + size], loop.create_future())
            for start in range(0, len(rows), size)
        ]
        queue.pending.extend(parts)
        if queue.worker is None or queue.worker.done():
            queue.worker = loop.create_task(self._run(queue), name=f"{self.name}-worker")
        queue.wakeup.set()
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

    def _take_batch(self, pending: deque[_Part]) -> list[_Part]:
        batch: list[_Part] = []
        later: list[_Part] = []  # numpy rows of another row shape: they wait for a later batch
        row_shape: tuple[int, ...] | None = None
        rows = 0
        while pending:
            part = pending[0]
            if part.future.done():  # cancelled while waiting
                pending.popleft()
                continue
            if rows + len(part.rows) > self._row_limit:
                break
            if self._request_limit is not None and len(batch) >= self._request_limit:
                break
            pending.popleft()
            if isinstance(part.rows, np.ndarray):
                shape = tuple(part.rows.shape[1:])
                if row_shape is None:
                    row_shape = shape
                elif shape != row_shape:  # cannot be concatenated with this batch
                    later.append(part)
                    continue
            batch.append(part)
            rows += len(part.rows)
        pending.extendleft(reversed(later))
        return batch

    async def _run(self, queue: _Queue) -> None:
        try:
            await self._loop_batches(queue)
        finally:  # never leave a request waiting on a dead worker
            self._fail(list(queue.pending), NotReadyError(f"{self.name} stopped"))
            queue.pending.clear()

    async def _loop_batches(self, queue: _Queue) -> None:
        pending, wakeup = queue.pending, queue.wakeup
        loop = asyncio.get_running_loop()
        while pending:  # idle: return; the next submit starts a new worker
            deadline = loop.time() + self.max_batch_wait_ms / 1000
            await asyncio.sleep(0)  # let requests that are already running enqueue
            while not self._full(pending):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                wakeup.clear()
                try:
                    await asyncio.wait_for(wakeup.wait(), remaining)
                except TimeoutError:
                    break
            batch = self._take_batch(pending)
            if batch:
                await self._execute(batch)

    def _full(self, pending: deque[_Part]) -> bool:
        waiting = [p for p in pending if not p.future.done()]
        if self._request_limit is not None and len(waiting) >= self._request_limit:
            return True
        return sum(len(p.rows) for p in waiting) >= self._row_limit

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
        """Stop the workers; requests still waiting fail with NotReadyError."""
        self._closed = True
        current = asyncio.get_running_loop()
        for loop, queue in list(self._queues.items()):
            worker = queue.worker
            if worker is None or worker.done():
                continue
            if loop is current:
                worker.cancel()
                try:
                    await worker
                except asyncio.CancelledError:
                    pass
            elif not loop.is_closed():
                loop.call_soon_threadsafe(worker.cancel)  # its finally fails the waiting


def batcher_from_class_args(
    name: str, predict_rows: PredictFn, class_args: dict[str, Any]
) -> Batcher | None:
    """Pop ``max_batch_size`` / ``max_batch_wait_ms`` / ``max_batch_rows`` from a model's
    class args.

    Returns the Batcher when ``max_batch_size`` is set, else None.
    """
    size = class_args.pop("max_batch_size", None)
    wait = class_args.pop("max_batch_wait_ms", None)
    rows = class_args.pop("max_batch_rows", None)
    if size is None:
        if wait is not None:
            raise GraphError(
                f"model {name!r}: 'max_batch_wait_ms' needs 'max_batch_size'. "
                f"Got max_batch_wait_ms={wait!r} alone."
            )
        return None
    return Batcher(
        predict_rows,
        max_batch_size=size,
        max_batch_wait_ms=5.0 if wait is None else wait,
        name=f"model {name!r}",
        max_batch_rows=rows,
    )
