"""Micro-batching: limits, coalescing, isolation of errors and cancellations.

Every await is wrapped in a timeout so a bug shows up as a failure, not a hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import servegraph
from servegraph.errors import GraphError, NotFoundError, NotReadyError, ServingError
from servegraph.serving.batching import Batcher
from servegraph.serving.v2_serving import V2ModelServer

TIMEOUT = 5.0


class FakeModel:
    """Records every batch; doubles rows; fails rows equal to 'bad'."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []

    def predict(self, rows: Sequence[Any]) -> list[Any]:
        self.batches.append(list(rows))
        return [ValueError(f"bad row {r}") if r == "bad" else r * 2 for r in rows]


async def _within(aw: Any) -> Any:
    return await asyncio.wait_for(aw, TIMEOUT)


async def test_64_concurrent_requests_coalesce_into_few_predict_calls() -> None:
    model = FakeModel()
    batcher = Batcher(model.predict, max_batch_size=32, max_batch_wait_ms=20)
    results = await _within(asyncio.gather(*(batcher.submit([i]) for i in range(64))))
    assert results == [[i * 2] for i in range(64)]
    assert len(model.batches) <= 4  # 64 rows / 32 per batch; far fewer than 64 calls
    assert all(len(batch) <= 32 for batch in model.batches)
    await _within(batcher.close())


async def test_rows_per_batch_never_exceed_the_limit_even_for_big_requests() -> None:
    model = FakeModel()
    batcher = Batcher(model.predict, max_batch_size=5, max_batch_wait_ms=5)
    sizes = [1, 3, 7, 2, 12, 5, 4]
    requests = [list(range(n)) for n in sizes]
    results = await _within(asyncio.gather(*(batcher.submit(rows) for rows in requests)))
    assert results == [[r * 2 for r in rows] for rows in requests]
    assert all(1 <= len(batch) <= 5 for batch in model.batches)
    assert sum(len(batch) for batch in model.batches) == sum(sizes)
    await _within(batcher.close())


async def test_numpy_rows_are_concatenated() -> None:
    seen: list[np.ndarray[Any, Any]] = []

    def predict(rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        seen.append(rows)
        return rows.sum(axis=1)

    batcher = Batcher(predict, max_batch_size=10, max_batch_wait_ms=10)
    a, b = np.ones((2, 3)), np.full((3, 3), 2.0)
    ra, rb = await _within(asyncio.gather(batcher.submit(a), batcher.submit(b)))
    assert ra == [3.0, 3.0] and rb == [6.0, 6.0, 6.0]
    assert len(seen) == 1 and isinstance(seen[0], np.ndarray) and seen[0].shape == (5, 3)
    await _within(batcher.close())


async def test_numpy_rows_of_another_shape_go_to_their_own_batch() -> None:
    seen: list[tuple[int, ...]] = []

    def predict(rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        seen.append(rows.shape)
        return rows.sum(axis=1)

    batcher = Batcher(predict, max_batch_size=10, max_batch_wait_ms=10)
    a, b, c = np.ones((2, 3)), np.ones((1, 2)), np.ones((1, 3))
    results = await _within(asyncio.gather(*(batcher.submit(x) for x in (a, b, c))))
    assert results == [[3.0, 3.0], [2.0], [3.0]]  # one client's shape never fails another's
    assert sorted(seen) == [(1, 2), (3, 3)]
    await _within(batcher.close())


async def test_a_failing_batch_fails_only_its_requests() -> None:
    calls = 0

    async def predict(rows: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("model crashed")
        return rows

    batcher = Batcher(predict, max_batch_size=2, max_batch_wait_ms=50)
    first = await _within(
        asyncio.gather(batcher.submit([1]), batcher.submit([2]), return_exceptions=True)
    )
    assert all(isinstance(r, RuntimeError) for r in first)
    assert await _within(batcher.submit([3])) == [3]  # the batcher carries on
    await _within(batcher.close())


async def test_a_row_error_fails_only_its_request() -> None:
    model = FakeModel()
    batcher = Batcher(model.predict, max_batch_size=8, max_batch_wait_ms=20)
    results = await _within(
        asyncio.gather(
            batcher.submit([1]), batcher.submit(["bad", 2]), batcher.submit([3]),
            return_exceptions=True,
        )
    )  # fmt: skip
    assert results[0] == [2] and results[2] == [6]
    assert isinstance(results[1], ValueError) and "bad row" in str(results[1])
    assert len(model.batches) == 1
    await _within(batcher.close())


async def test_wrong_number_of_results_fails_the_batch_clearly() -> None:
    batcher = Batcher(lambda rows: [1], max_batch_size=4, max_batch_wait_ms=1)
    with pytest.raises(ServingError, match="1 results for 2 rows"):
        await _within(batcher.submit([1, 2]))
    await _within(batcher.close())


async def test_a_cancelled_request_never_stalls_the_batcher() -> None:
    release = asyncio.Event()
    seen: list[list[int]] = []

    async def predict(rows: list[int]) -> list[int]:
        seen.append(list(rows))
        await release.wait()
        return rows

    batcher = Batcher(predict, max_batch_size=4, max_batch_wait_ms=1)
    in_batch = asyncio.ensure_future(batcher.submit([1]))
    await asyncio.sleep(0.05)  # the first batch is running and blocked
    waiting = asyncio.ensure_future(batcher.submit([2]))
    survivor = asyncio.ensure_future(batcher.submit([3]))
    await asyncio.sleep(0.01)
    in_batch.cancel()  # cancelled inside a running batch
    waiting.cancel()  # cancelled before its batch formed
    release.set()
    assert await _within(survivor) == [3]
    assert in_batch.cancelled() and waiting.cancelled()
    assert [2] not in seen and [2, 3] not in seen  # the cancelled row never reached predict
    assert await _within(batcher.submit([4])) == [4]
    await _within(batcher.close())


async def test_close_fails_waiting_requests_and_rejects_new_ones() -> None:
    block = asyncio.Event()

    async def predict(rows: list[int]) -> list[int]:
        await block.wait()
        return rows

    batcher = Batcher(predict, max_batch_size=1, max_batch_wait_ms=0)
    running = asyncio.ensure_future(batcher.submit([1]))
    queued = asyncio.ensure_future(batcher.submit([2]))
    await asyncio.sleep(0.05)
    await _within(batcher.close())
    for task in (running, queued):
        with pytest.raises(NotReadyError):
            await _within(task)
    with pytest.raises(NotReadyError, match="closed"):
        await _within(batcher.submit([3]))


async def test_empty_request_returns_immediately() -> None:
    batcher = Batcher(lambda rows: rows, max_batch_size=4)
    assert await _within(batcher.submit([])) == []
    assert batcher.batches == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_batch_size": 0}, "'max_batch_size'.*Got 0"),
        ({"max_batch_size": 2.5}, "'max_batch_size'"),
        ({"max_batch_wait_ms": -1}, "'max_batch_wait_ms'.*Got -1"),
    ],
)
def test_bad_parameters_raise_naming_them(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(GraphError, match=match):
        Batcher(lambda rows: rows, **kwargs)


def test_the_worker_stops_when_idle_and_the_batcher_works_across_loops() -> None:
    model = FakeModel()
    batcher = Batcher(model.predict, max_batch_size=4, max_batch_wait_ms=1)

    async def once(value: int) -> list[Any]:
        result = await _within(batcher.submit([value]))
        worker = batcher._queues[asyncio.get_running_loop()].worker
        for _ in range(100):  # the worker returns once the queue is empty
            if worker is None or worker.done():
                break
            await asyncio.sleep(0.01)
        assert worker is not None and worker.done()
        return result

    assert asyncio.run(once(1)) == [2]
    assert asyncio.run(once(2)) == [4]  # a new event loop, same batcher


def test_two_loops_in_two_threads_use_one_batcher_concurrently() -> None:
    model = FakeModel()
    batcher = Batcher(model.predict, max_batch_size=8, max_batch_wait_ms=5)

    async def many(base: int) -> list[list[Any]]:
        calls = (batcher.submit([base + i]) for i in range(20))
        results: list[list[Any]] = await _within(asyncio.gather(*calls))
        return results

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(asyncio.run, many(base)) for base in (0, 100)]
        first, second = (f.result(timeout=TIMEOUT) for f in futures)
    assert first == [[2 * i] for i in range(20)]
    assert second == [[2 * (100 + i)] for i in range(20)]
    assert all(len(batch) <= 8 for batch in model.batches)


class Summer(V2ModelServer):
    """Sums each row; counts predict calls."""

    calls = 0

    def predict(self, request: dict[str, Any]) -> Any:
        Summer.calls += 1
        return [sum(row) for row in request["inputs"]]


def test_a_batching_model_in_the_mock_server() -> None:
    fn = servegraph.new_function("batch-fn", kind="serving")
    fn.set_topology("router")
    fn.add_model("sum", class_name=Summer, max_batch_size=2, max_batch_wait_ms=1)
    server = fn.to_mock_server()
    body = server.test("/v2/models/sum/infer", body={"inputs": [[1, 2], [3, 4], [5, 6]]})
    assert body["outputs"] == [3, 7, 11]
    assert Summer.calls == 2  # 3 rows, at most 2 per predict call
    assert server.test("/v2/models/sum", method="GET")["name"] == "sum"
    asyncio.run(server.close())


def test_max_batch_wait_ms_alone_is_a_mistake() -> None:
    with pytest.raises(GraphError, match="'max_batch_wait_ms' needs 'max_batch_size'"):
        Summer(name="s", max_batch_wait_ms=5)


def test_a_router_with_batching_routes_lists_and_dispatches() -> None:
    fn = servegraph.new_function("batch-router", kind="serving")
    fn.set_topology("router")
    fn.add_model("a", class_name=Summer, max_batch_size=4)
    fn.add_model("b:v2", class_name=Summer, max_batch_size=4)
    server = fn.to_mock_server()
    assert server.test("/v2/models/", method="GET") == {"models": ["a", "b:v2"]}
    assert server.test("/v2/models/a/infer", body={"inputs": [[1, 1]]})["outputs"] == [2]
    body = server.test("/v2/models/b/versions/v2/infer", body={"inputs": [[2, 2]]})
    assert body["outputs"] == [4] and body["model_version"] == "v2"
    assert server.test("/", body={"model": "a", "inputs": [[3, 3]]})["outputs"] == [6]
    with pytest.raises(NotFoundError):
        server.test("/v2/models/zz/infer", body={"inputs": [[1]]})
    asyncio.run(server.close())


async def test_multi_row_requests_fill_a_batch_by_requests_and_rows() -> None:
    calls: list[int] = []

    def predict(rows: Any) -> list[Any]:
        calls.append(len(rows))
        return [r * 2 for r in rows]

    by_rows = Batcher(predict, max_batch_size=64, max_batch_wait_ms=200)
    requests = [list(range(i, i + 32)) for i in range(8)]
    results = await asyncio.gather(*(by_rows.submit(r) for r in requests))
    assert results == [[v * 2 for v in r] for r in requests]
    assert calls == [64, 64, 64, 64]  # rows only: two 32-row requests per batch
    await by_rows.close()

    calls.clear()
    both = Batcher(predict, max_batch_size=8, max_batch_rows=1024, max_batch_wait_ms=200)
    results = await asyncio.gather(*(both.submit(r) for r in requests))
    assert results == [[v * 2 for v in r] for r in requests]
    assert calls == [256]  # 8 requests, 256 rows: one batch
    calls.clear()
    await asyncio.gather(*(both.submit([1]) for _ in range(20)))
    assert calls == [8, 8, 4]  # by requests: 8 per batch
    await both.close()
    with pytest.raises(GraphError, match="'max_batch_rows'"):
        Batcher(predict, max_batch_rows=0)
