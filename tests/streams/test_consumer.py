"""StreamConsumer over the file log and Redis: every record handled, failures dead-lettered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from servegraph.errors import ConfigError
from servegraph.streams.consumer import StreamConsumer

from .conftest import StreamFactory


async def test_each_record_is_handled_once_and_acked(stream_factory: StreamFactory) -> None:
    stream = stream_factory()
    await stream.push([{"i": i} for i in range(25)])
    seen: list[int] = []
    running = 0
    peak = 0

    async def handler(data: dict[str, Any]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        seen.append(data["i"])
        running -= 1

    consumer = StreamConsumer(stream, handler, concurrency=3, batch=10)
    await consumer.run(until_idle=True)
    assert sorted(seen) == list(range(25)) and peak <= 3
    assert consumer.stats.processed == 25 and consumer.stats.batches == 3
    assert await stream_factory().read("serve", "other") == []  # all acked


async def test_failing_records_are_retried_then_dead_lettered(
    stream_factory: StreamFactory,
) -> None:
    stream, dead = stream_factory(), stream_factory("-dlq")
    await stream.push([{"i": i} for i in range(6)])
    attempts: dict[int, int] = {}

    async def handler(data: dict[str, Any]) -> None:
        i = data["i"]
        attempts[i] = attempts.get(i, 0) + 1
        if i == 4 or (i == 1 and attempts[i] < 2):  # 4 always fails, 1 fails once
            raise ValueError(f"bad {i}")

    consumer = StreamConsumer(stream, handler, max_attempts=3, dead_letter=dead, group="g")
    await consumer.run(until_idle=True)
    assert attempts == {0: 1, 1: 2, 2: 1, 3: 1, 4: 3, 5: 1}
    assert consumer.stats.dead_lettered == 1 and consumer.stats.processed == 5
    # the dead letter shares the stream here, so read it as its own group
    letters = [r.data for r in await dead.read("dlq", "c", count=100) if "error" in r.data]
    assert letters == [
        {
            "offset": letters[0]["offset"],
            "data": {"i": 4},
            "error": "ValueError: bad 4",
            "attempts": 3,
        }
    ]


async def test_a_crash_mid_batch_redelivers_the_batch(stream_factory: StreamFactory) -> None:
    stream = stream_factory()
    await stream.push([{"i": i} for i in range(4)])

    class Crash(BaseException):
        pass

    async def crashing(data: dict[str, Any]) -> None:
        if data["i"] == 2:
            raise Crash

    with pytest.raises(Crash):
        await StreamConsumer(stream, crashing).run(until_idle=True)
    await stream.close()
    seen: list[int] = []

    async def handler(data: dict[str, Any]) -> None:
        seen.append(data["i"])

    await StreamConsumer(stream_factory(), handler).run(until_idle=True)
    assert sorted(seen) == [0, 1, 2, 3]


def test_bad_parameters_are_named(stream_factory: StreamFactory) -> None:
    async def handler(data: Any) -> None:
        return None

    with pytest.raises(ConfigError, match="'concurrency' parameter of StreamConsumer"):
        StreamConsumer(stream_factory(), handler, concurrency=0)


async def test_a_queue_step_feeds_a_graph_run_by_the_consumer(
    stream_factory: StreamFactory,
) -> None:
    """Graph A pushes to the stream through a queue step; graph B is driven from it."""
    import servegraph as sg
    from servegraph.serving.event import Event
    from servegraph.serving.split import unwrap

    url = stream_factory().url
    front = sg.new_function("front", kind="serving")
    flow = front.set_topology("flow", engine="async")
    flow.to(handler=lambda body: {**body, "seen": True}, name="tag").to(">>", "q", path=url)
    producer = front.to_mock_server()
    for i in range(5):
        await producer.run_async(Event({"i": i}))
    await producer.close()

    results: list[dict[str, Any]] = []
    back = sg.new_function("back", kind="serving")
    back.set_topology("flow", engine="async").to(
        handler=lambda body: results.append({**body, "i2": body["i"] * 2}), name="sink"
    )
    consumer_server = back.to_mock_server()

    async def run_graph(data: dict[str, Any]) -> None:
        event_id, body, path = unwrap(data)  # a queue pushes {"_event_id", "body", "path"}
        await consumer_server.run_async(Event(body, path=path, id=event_id))

    await StreamConsumer(stream_factory(), run_graph, concurrency=2).run(until_idle=True)
    await consumer_server.close()
    assert sorted(r["i2"] for r in results) == [0, 2, 4, 6, 8]
    assert all(r["seen"] for r in results)
