"""The stream contract of streams/base.py, run against every backend available here."""

from __future__ import annotations

import asyncio

from servegraph.streams import Stream

from .conftest import StreamFactory


async def _drain(stream: Stream, group: str, consumer: str = "c1") -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    while batch := await stream.read(group, consumer, count=7):
        out.extend(r.data for r in batch)
    return out


async def test_push_then_read_in_order(stream_factory: StreamFactory) -> None:
    stream = stream_factory()
    assert isinstance(stream, Stream)
    records = [{"i": i, "name": f"r{i}", "nested": {"x": [i, i + 1]}} for i in range(20)]
    offsets = await stream.push(records)
    assert len(offsets) == len(set(offsets)) == 20
    assert await _drain(stream, "g") == records
    assert await stream.read("g", "c1") == []


async def test_offsets_are_ordered_and_match_records(stream_factory: StreamFactory) -> None:
    stream = stream_factory()
    offsets = await stream.push([{"i": i} for i in range(5)])
    read = await stream.read("g", "c1", count=10)
    assert [r.offset for r in read] == offsets
    assert [r.data["i"] for r in read] == list(range(5))


async def test_groups_are_independent(stream_factory: StreamFactory) -> None:
    stream = stream_factory()
    await stream.push([{"i": i} for i in range(3)])
    a = await stream.read("a", "c1")
    await stream.ack("a", [r.offset for r in a])
    assert [r.data for r in await stream.read("b", "c1")] == [{"i": 0}, {"i": 1}, {"i": 2}]


async def test_count_limits_a_read(stream_factory: StreamFactory) -> None:
    stream = stream_factory()
    await stream.push([{"i": i} for i in range(10)])
    first = await stream.read("g", "c1", count=4)
    second = await stream.read("g", "c1", count=100)
    assert [r.data["i"] for r in first] == [0, 1, 2, 3]
    assert [r.data["i"] for r in second] == list(range(4, 10))


async def test_acked_records_are_not_redelivered_after_restart(
    stream_factory: StreamFactory,
) -> None:
    stream = stream_factory()
    await stream.push([{"i": i} for i in range(6)])
    batch = await stream.read("g", "c1", count=6)
    await stream.ack("g", [r.offset for r in batch])
    await stream.close()
    restarted = stream_factory()
    assert await restarted.read("g", "c1") == []
    await restarted.push([{"i": 6}])
    assert [r.data for r in await restarted.read("g", "c1")] == [{"i": 6}]


async def test_unacked_records_are_redelivered_after_restart(
    stream_factory: StreamFactory,
) -> None:
    stream = stream_factory()
    await stream.push([{"i": i} for i in range(6)])
    batch = await stream.read("g", "c1", count=6)
    # records 1 and 4 were processed; the consumer died before acking the rest
    await stream.ack("g", [batch[1].offset, batch[4].offset])
    await stream.close()
    restarted = stream_factory()
    redelivered = await _drain(restarted, "g")
    assert [r["i"] for r in redelivered] == [0, 2, 3, 5]


async def test_records_pushed_by_another_object_are_seen(stream_factory: StreamFactory) -> None:
    writer, reader = stream_factory(), stream_factory()
    assert await reader.read("g", "c1") == []
    await writer.push([{"i": 1}])
    await writer.push([{"i": 2}, {"i": 3}])
    assert [r["i"] for r in await _drain(reader, "g")] == [1, 2, 3]


async def test_blocking_read_returns_a_record_pushed_meanwhile(
    stream_factory: StreamFactory,
) -> None:
    reader, writer = stream_factory(), stream_factory()
    assert await reader.read("g", "c1") == []  # creates the group before the push

    async def push_later() -> None:
        await asyncio.sleep(0.05)
        await writer.push([{"late": True}])

    task = asyncio.create_task(push_later())
    got = await reader.read("g", "c1", block_ms=5000)
    await task
    assert [r.data for r in got] == [{"late": True}]


async def test_empty_push_and_ack_are_no_ops(stream_factory: StreamFactory) -> None:
    stream = stream_factory()
    assert await stream.push([]) == []
    await stream.ack("g", [])
    assert await stream.read("g", "c1") == []
