"""Run a handler for every record of a stream: at-least-once, bounded, with a dead letter.

``StreamConsumer`` reads a consumer group in batches, runs ``handler(data)`` on
the records of a batch concurrently (at most ``concurrency`` at a time),
retries a failing record up to ``max_attempts`` times, then sends it to the
``dead_letter`` stream (``{"offset", "data", "error", "attempts"}``) instead
of blocking the stream forever; an entry that is not a record (see
``Record.malformed``) goes there at once, without reaching the handler. A
batch is acked once every record in it has succeeded or been dead-lettered, so
a crash re-delivers the unfinished batch (at-least-once), and acks stay in
order (what Kafka's cumulative commits need).
This is how a serving graph is driven from a stream (``servegraph serve
--source URL``): the handler runs the graph on the record.

>>> consumer = StreamConsumer(get_stream("/tmp/in"), handler,
...                           dead_letter=get_stream("/tmp/dlq"))       # doctest: +SKIP
>>> await consumer.run(stop=stop_event)                                 # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from servegraph.errors import ConfigError, StreamError
from servegraph.streams.base import Record, Stream

logger = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[object]]


@dataclass
class ConsumerStats:
    """Counts since the consumer was created."""

    processed: int = 0
    failed_attempts: int = 0
    dead_lettered: int = 0
    batches: int = 0


class StreamConsumer:
    """Drive ``handler`` from ``stream``; see the module docstring.

    Parameters: ``group`` / ``consumer`` (the consumer group and member name),
    ``concurrency`` (records handled at once), ``max_attempts`` (tries per
    record before the dead letter), ``dead_letter`` (a stream, or None to drop
    after logging), ``batch`` (records per read), ``block_ms`` (how long a read
    waits for new records).
    """

    def __init__(
        self,
        stream: Stream,
        handler: Handler,
        *,
        group: str = "serve",
        consumer: str = "consumer-1",
        concurrency: int = 8,
        max_attempts: int = 3,
        dead_letter: Stream | None = None,
        batch: int = 100,
        block_ms: int = 500,
    ) -> None:
        for name, value in (
            ("concurrency", concurrency),
            ("max_attempts", max_attempts),
            ("batch", batch),
        ):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"The '{name}' parameter of StreamConsumer must be a positive int. "
                    f"Got {value!r} instead."
                )
        self.stream = stream
        self.handler = handler
        self.group = group
        self.consumer = consumer
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.dead_letter = dead_letter
        self.batch = batch
        self.block_ms = block_ms
        self.stats = ConsumerStats()
        self._slots = asyncio.Semaphore(concurrency)

    async def run(self, stop: asyncio.Event | None = None, until_idle: bool = False) -> None:
        """Consume until ``stop`` is set (or, with ``until_idle``, the stream has nothing new)."""
        while stop is None or not stop.is_set():
            records = await self.stream.read(
                self.group,
                self.consumer,
                count=self.batch,
                block_ms=0 if until_idle else self.block_ms,
            )
            if not records:
                if until_idle:
                    return
                continue
            await self.process(records)

    async def process(self, records: list[Record]) -> None:
        """Handle one batch, dead-letter what keeps failing, then ack the batch."""
        await asyncio.gather(*(self._one(record) for record in records))
        await self.stream.ack(self.group, [r.offset for r in records])
        self.stats.batches += 1

    async def _one(self, record: Record) -> None:
        if record.malformed is not None:
            await self._dead_letter(record, f"malformed entry: {record.malformed}", 0)
            return
        error: BaseException | None = None
        for _ in range(self.max_attempts):
            async with self._slots:
                try:
                    await self.handler(record.data)
                except Exception as exc:  # the handler's failure is data here
                    error = exc
                    self.stats.failed_attempts += 1
                    continue
            self.stats.processed += 1
            return
        message = f"{type(error).__name__}: {error}"
        logger.warning("record %s failed %d times: %s", record.offset, self.max_attempts, message)
        await self._dead_letter(record, message, self.max_attempts)

    async def _dead_letter(self, record: Record, message: str, attempts: int) -> None:
        if record.malformed is not None:
            logger.warning("stream entry %s skipped: %s", record.offset, message)
        if self.dead_letter is not None:
            letter = {
                "offset": record.offset,
                "data": record.data,
                "error": message,
                "attempts": attempts,
            }
            try:
                await self.dead_letter.push([letter])
            except StreamError:
                logger.exception("dead letter for record %s could not be written", record.offset)
                raise  # not acked: the batch comes back rather than losing the record
        self.stats.dead_lettered += 1
