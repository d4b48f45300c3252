"""Serve a graph from a stream: read records as a consumer group, run each, ack.

Each record's data becomes an event body (``POST /``). A record whose event
fails is logged and acked (at-least-once delivery, no poison-record loop).

>>> await consume(server, stream, group="serving", stop=asyncio.Event())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from servegraph.errors import ServegraphError
from servegraph.serving.event import Event
from servegraph.streams.base import Stream

logger = logging.getLogger("servegraph.serving.stream")


async def consume(
    server: Any,
    stream: Stream,
    *,
    group: str = "servegraph-serving",
    consumer: str | None = None,
    stop: asyncio.Event,
    batch: int = 100,
    block_ms: int = 500,
) -> int:
    """Run records through ``server.run_async`` until ``stop`` is set; return how many ran."""
    consumer = consumer or f"{socket.gethostname()}-{id(server)}"
    done = 0
    while not stop.is_set():
        records = await stream.read(group, consumer, count=batch, block_ms=block_ms)
        for record in records:
            event = Event(body=record.data, path="/", method="POST", id=record.offset)
            try:
                await server.run_async(event)
            except ServegraphError as exc:
                logger.warning("record %s of %s failed: %s", record.offset, stream.url, exc)
            done += 1
        if records:
            await stream.ack(group, [record.offset for record in records])
    return done
