"""Entries another producer wrote are delivered as malformed records, never raised."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from servegraph.streams import Stream
from servegraph.streams.consumer import StreamConsumer
from servegraph.streams.filelog import FileLogStream
from servegraph.streams.redis_streams import RedisStream

from .conftest import StreamFactory

Writer = Callable[[Stream], Awaitable[None]]


async def _write_foreign(stream: Stream) -> None:
    """Between two good records: an entry without 'data', bad JSON, a JSON list."""
    await stream.push([{"i": 0}])
    if isinstance(stream, RedisStream):
        client = aioredis.Redis(host=stream.host, port=stream.port)
        await client.xadd(stream.name, {"payload": "x"})
        await client.xadd(stream.name, {"data": b"\xff not json"})
        await client.xadd(stream.name, {"data": "[1, 2]"})
        await client.close()
    else:
        assert isinstance(stream, FileLogStream)
        (segment,) = (stream.path / "segments").iterdir()
        with open(segment, "ab") as handle:
            handle.write(b'{"partial": \n\xff not json\n[1, 2]\n')
    await stream.push([{"i": 1}])


async def test_foreign_entries_are_marked_and_can_be_acked(stream_factory: StreamFactory) -> None:
    stream = stream_factory()
    await _write_foreign(stream)
    records = await stream.read("g", "c", count=10)
    assert [r.data for r in records if r.malformed is None] == [{"i": 0}, {"i": 1}]
    malformed = [r.malformed for r in records if r.malformed is not None]
    assert len(malformed) == 3 and malformed[-1] == "not a JSON object: a list"
    await stream.ack("g", [r.offset for r in records])
    assert await stream_factory().read("g", "c") == []


async def test_the_consumer_dead_letters_foreign_entries_without_calling_the_handler(
    stream_factory: StreamFactory,
) -> None:
    stream = stream_factory()
    await _write_foreign(stream)
    seen: list[Any] = []

    async def handler(data: dict[str, Any]) -> None:
        seen.append(data)

    dead = stream_factory("-dead")
    consumer = StreamConsumer(stream, handler, dead_letter=dead)
    await consumer.run(until_idle=True)
    assert seen == [{"i": 0}, {"i": 1}]
    assert consumer.stats.dead_lettered == 3
    letters = await dead.read("g", "c")
    assert all(letter.data["error"].startswith("malformed entry") for letter in letters)
    assert len(letters) == 3
