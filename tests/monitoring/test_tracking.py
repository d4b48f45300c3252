"""StreamTracker: batching, sampling, spill on outage, replay in order, exactly once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from servegraph import streams
from servegraph.errors import ConfigError
from servegraph.monitoring.tracking import StreamTracker, default_stream_url
from servegraph.streams import get_stream

from .fakes import GateStream, TcpProxy


def _record(i: int) -> dict[str, Any]:
    return {"endpoint_id": "ep", "request_id": f"r{i}", "inputs": [[i, i * 2]], "outputs": [i]}


async def _until(condition: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    """Wait for a condition (not a timing assertion: the deadline only avoids hanging)."""
    for _ in range(1000):
        result = condition()
        if result if isinstance(result, bool) else await result:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _read_all(url: str) -> list[dict[str, Any]]:
    stream = get_stream(url)
    out: list[dict[str, Any]] = []
    while batch := await stream.read("check", "c", count=500):
        out.extend(r.data for r in batch)
    await stream.close()
    return out


async def test_records_reach_the_file_log_once_in_order(tmp_path: Path) -> None:
    url = str(tmp_path / "ep-stream")
    tracker = StreamTracker(stream_path=url, batch=7)
    await tracker.start()
    for i in range(50):
        tracker.log(_record(i))
    await tracker.close()
    assert await _read_all(url) == [_record(i) for i in range(50)]
    assert tracker.stats["pushed"] == 50 and tracker.stats["spilled"] == 0


async def test_a_full_batch_is_flushed_without_waiting_for_the_interval(tmp_path: Path) -> None:
    url = str(tmp_path / "s")
    tracker = StreamTracker(stream_path=url, batch=5, flush_interval_ms=3_600_000)
    await tracker.start()
    for i in range(5):
        tracker.log(_record(i))
    await _until(lambda: tracker.stats["pushed"] == 5, "the batch flush")
    await tracker.close()


async def test_sample_keeps_every_nth_record(tmp_path: Path) -> None:
    url = str(tmp_path / "s")
    tracker = StreamTracker(stream_path=url, sample=3)
    await tracker.start()
    for i in range(10):
        tracker.log(_record(i))
    await tracker.close()
    assert [r["outputs"][0] for r in await _read_all(url)] == [0, 3, 6, 9]
    assert tracker.stats["sampled_out"] == 6


async def test_default_stream_is_under_servegraph_home(servegraph_home: Path) -> None:
    assert default_stream_url() == f"file://{servegraph_home / 'streams' / 'model-endpoints'}"
    tracker = StreamTracker()
    await tracker.start()
    tracker.log(_record(1))
    await tracker.close()
    assert await _read_all(default_stream_url()) == [_record(1)]


async def test_buffer_overflow_spills_to_disk_and_keeps_order(
    tmp_path: Path, servegraph_home: Path
) -> None:
    url = str(tmp_path / "s")
    tracker = StreamTracker(stream_path=url, max_buffer=10, batch=4)
    for i in range(25):  # not started yet: nothing drains the buffer
        tracker.log(_record(i))
    assert tracker.stats["spilled"] == 20
    assert list((servegraph_home / "tracking" / "spill").glob("*.jsonl"))
    await tracker.start()
    await tracker.close()
    assert await _read_all(url) == [_record(i) for i in range(25)]


@pytest.fixture
def gate_stream(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(streams.BACKENDS, "fake", "tests.monitoring.fakes:GateStream")
    return "fake://gated"


@pytest.mark.parametrize("push_succeeds", [True, False])
async def test_overflow_while_a_push_is_in_flight_keeps_order_and_counts(
    gate_stream: str, push_succeeds: bool
) -> None:
    tracker = StreamTracker(stream_path=gate_stream, batch=3, max_buffer=5)
    await tracker.start()
    fake = GateStream.instances[gate_stream]
    fake.gate.clear()
    for i in range(3):
        tracker.log(_record(i))
    await _until(fake.entered.is_set, "the push to start")
    for i in range(3, 8):  # overflows while records 0-2 are in flight
        tracker.log(_record(i))
    fake.down = not push_succeeds
    fake.gate.set()
    await _until(lambda: tracker.stats["pushed"] + tracker.stats["failures"] >= 1, "the push")
    fake.down = False
    await tracker.close()
    assert fake.records == [_record(i) for i in range(8)]


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ConfigError, match="'batch' parameter of StreamTracker"):
        StreamTracker(batch=0)
    with pytest.raises(ConfigError, match="'sample' parameter"):
        StreamTracker(sample=-2)


# -- broker outage: a TCP proxy in front of the real Redis, cut and restored --------------


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", 6379)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.fixture
def redis_stream(redis_url: str, unique: str) -> Iterator[str]:
    name = f"sg-test-track-{unique}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name)
    client.close()


def _stream_len(name: str) -> int:
    return int(redis.Redis(host="127.0.0.1", port=6379).xlen(name))


async def test_requests_keep_succeeding_through_a_redis_outage(
    proxy: TcpProxy, redis_stream: str
) -> None:
    tracker = StreamTracker(
        stream_path=f"redis://127.0.0.1:{proxy.port}/{redis_stream}?timeout_s=1",
        batch=10,
        flush_interval_ms=20,
    )
    counter = iter(range(10_000))

    async def predict(request: web.Request) -> web.Response:
        tracker.log(_record(next(counter)))  # what a model step does per request
        return web.json_response({"outputs": [1]})

    app = web.Application()
    app.router.add_post("/v2/models/m/infer", predict)
    await tracker.start()
    async with TestClient(TestServer(app)) as client:

        async def requests(n: int) -> None:
            for _ in range(n):
                resp = await client.post("/v2/models/m/infer", json={"inputs": [[1]]})
                assert resp.status == 200

        await requests(40)
        await _until(lambda: _stream_len(redis_stream) == 40, "40 records in Redis")
        await proxy.cut()  # the broker is unreachable from here
        await requests(100)
        await _until(lambda: tracker.stats["spilled"] >= 100, "records spilled to disk")
        assert _stream_len(redis_stream) == 40
        await proxy.restore()
        await requests(60)
        await _until(lambda: _stream_len(redis_stream) == 200, "all 200 records in Redis")
    await tracker.close()
    entries = redis.Redis(host="127.0.0.1", port=6379).xrange(redis_stream)
    got = [json.loads(fields[b"data"])["request_id"] for _, fields in entries]
    assert got == [f"r{i}" for i in range(200)]  # every record once, in order


async def test_records_spilled_at_shutdown_are_replayed_by_the_next_tracker(
    proxy: TcpProxy, redis_stream: str
) -> None:
    url = f"redis://127.0.0.1:{proxy.port}/{redis_stream}?timeout_s=1"
    await proxy.cut()
    first = StreamTracker(stream_path=url, batch=4)
    await first.start()
    for i in range(10):
        first.log(_record(i))
    await first.close()  # broker down: the records stay on disk
    assert first.stats["pushed"] == 0
    await proxy.restore()
    second = StreamTracker(stream_path=url, batch=4)
    await second.start()
    second.log(_record(10))
    await second.close()
    assert await _read_all(f"redis://127.0.0.1:6379/{redis_stream}") == [
        _record(i) for i in range(11)
    ]


async def test_pending_counts_until_flushed(tmp_path: Path) -> None:
    tracker = StreamTracker(stream_path=str(tmp_path / "s"), flush_interval_ms=3_600_000)
    await tracker.start()
    for i in range(3):
        tracker.log(_record(i))
    assert tracker.pending == 3
    tracker.request_flush()
    await _until(lambda: tracker.pending == 0, "the requested flush")
    await tracker.close()
    assert tracker.stats["pushed"] == 3
