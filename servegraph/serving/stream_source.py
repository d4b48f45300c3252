"""Serve a graph from a stream: ``servegraph serve SPEC --source URL``.

Each record's data becomes an event body (``POST /``) run through
``server.run_async``; a record a queue step pushed (see :mod:`servegraph.serving.split`)
gives its body, path and event id, and a second copy of an event id already
run is skipped. Delivery is the stream consumer's
(:class:`servegraph.streams.consumer.StreamConsumer`): a consumer group,
bounded concurrency, acks after success (at-least-once), retries, and a
dead-letter stream for records that keep failing, so a poison record neither
blocks the stream nor is lost.

>>> await consume(server, get_stream(url), stop=stop,
...               dead_letter=get_stream(url + "-dead-letter"))      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from servegraph.serving.event import Event
from servegraph.serving.split import SeenIds, unwrap
from servegraph.streams.base import Stream
from servegraph.streams.consumer import StreamConsumer
from servegraph.tracing import extract_record

DEFAULT_GROUP = "servegraph-serving"  # the consumer group of `serve --source` (and triggers)
DEFAULT_CONCURRENCY = 8


async def consume(
    server: Any,
    stream: Stream,
    *,
    stop: asyncio.Event | None = None,
    group: str = DEFAULT_GROUP,
    consumer: str | None = None,
    dead_letter: Stream | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_attempts: int = 3,
    batch: int = 100,
    block_ms: int = 500,
    until_idle: bool = False,
) -> StreamConsumer:
    """Run records through ``server.run_async`` until ``stop`` is set (or the stream is idle)."""

    seen = SeenIds()

    async def run_record(data: Any) -> object:
        data, headers = extract_record(data)  # a queue step's trace headers, if any
        event_id, body, path = unwrap(data)
        if event_id is None:  # a record another producer wrote: the record is the body
            return await server.run_async(
                Event(body=data, headers=headers, path="/", method="POST")
            )
        if not seen.claim(event_id):
            return None  # a second copy of an event already run (or running) here
        event = Event(body=body, headers=headers, path=path, method="POST", id=event_id)
        try:
            result = await server.run_async(event)
        except BaseException:
            seen.release(event_id, done=False)  # the consumer retries it
            raise
        seen.release(event_id, done=True)
        return result

    driver = StreamConsumer(
        stream,
        run_record,
        group=group,
        consumer=consumer or f"{socket.gethostname()}-{id(server)}",
        concurrency=concurrency,
        max_attempts=max_attempts,
        dead_letter=dead_letter,
        batch=batch,
        block_ms=block_ms,
    )
    await driver.run(stop=stop, until_idle=until_idle)
    return driver
