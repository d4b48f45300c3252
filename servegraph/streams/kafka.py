"""Kafka backend through aiokafka: ``kafka://broker[:port][,broker2...]/topic[?options]``.

Records are JSON values; an offset is ``"<partition>:<offset>"``. A consumer
group is a Kafka consumer group (``enable_auto_commit=False``,
``auto_offset_reset`` from the URL, ``earliest`` by default). Kafka commits are
cumulative per partition, so ``ack`` commits, for each partition, the highest
acked offset + 1: ack in order (as the monitoring job and ``serve --source``
do). Producer and consumers are created on first use, inside the event loop.

URL query options: ``acks`` (``all``, ``1``, ``0``), ``auto_offset_reset``,
``linger_ms``, ``client_id``.

>>> stream = KafkaStream("kafka://b1:9092,b2:9092/clicks?acks=1")
>>> stream.topic, stream.bootstrap_servers, stream.producer_config()["acks"]
('clicks', ['b1:9092', 'b2:9092'], 1)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from servegraph.errors import ConfigError, StreamError, StreamUnavailableError
from servegraph.streams.base import Record
from servegraph.streams.codec import encode, to_record

DEFAULT_PORT = 9092
_OFFSET_RESETS = ("earliest", "latest")
_ACKS: dict[str, int | str] = {"all": "all", "-1": "all", "1": 1, "0": 0}


def parse_offset(offset: str) -> tuple[int, int]:
    """Split ``"partition:offset"``.

    >>> parse_offset("3:42")
    (3, 42)
    """
    partition, sep, position = offset.partition(":")
    if not sep or not partition.isdigit() or not position.isdigit():
        raise StreamError(
            f"A Kafka offset must look like '<partition>:<offset>'. Got {offset!r} instead."
        )
    return int(partition), int(position)


@contextmanager
def _translated(url: str, action: str) -> Iterator[None]:
    from aiokafka import errors as kafka_errors

    try:
        yield
    except (kafka_errors.KafkaConnectionError, kafka_errors.KafkaTimeoutError, OSError) as exc:
        raise StreamUnavailableError(f"Kafka at {url} is unreachable ({action}): {exc}") from exc
    except kafka_errors.KafkaError as exc:
        raise StreamError(f"Kafka topic {url} failed to {action}: {exc}") from exc


async def _started(client: Any) -> None:
    """Start an aiokafka client; stop it again if the broker cannot be reached."""
    try:
        await client.start()
    except BaseException:
        await client.stop()
        raise


class KafkaStream:
    """A Kafka topic; see the module docstring for URL options and semantics."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        topic = unquote(parts.path.strip("/"))
        if parts.scheme != "kafka" or not parts.netloc or not topic or "/" in topic:
            raise ConfigError(
                "The 'url' parameter of KafkaStream must look like "
                f"'kafka://broker:9092/topic'. Got {url!r} instead."
            )
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.url = url
        self.topic = topic
        self.bootstrap_servers = [
            host if ":" in host else f"{host}:{DEFAULT_PORT}"
            for host in parts.netloc.split(",")
            if host
        ]
        acks = options.get("acks", "all")
        if acks not in _ACKS:
            raise ConfigError(
                f"The 'acks' option of the stream URL {url!r} must be one of all, 1, 0. "
                f"Got {acks!r} instead."
            )
        self.acks = _ACKS[acks]
        self.auto_offset_reset = options.get("auto_offset_reset", "earliest")
        if self.auto_offset_reset not in _OFFSET_RESETS:
            raise ConfigError(
                f"The 'auto_offset_reset' option of the stream URL {url!r} must be earliest "
                f"or latest. Got {self.auto_offset_reset!r} instead."
            )
        linger = options.get("linger_ms", "0")
        if not linger.isdigit():
            raise ConfigError(
                f"The 'linger_ms' option of the stream URL {url!r} must be a non-negative int. "
                f"Got {linger!r} instead."
            )
        self.linger_ms = int(linger)
        self.client_id = options.get("client_id", "servegraph")
        self._producer: Any = None
        self._consumers: dict[str, Any] = {}

    def producer_config(self) -> dict[str, Any]:
        """Keyword arguments of the ``AIOKafkaProducer``."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "acks": self.acks,
            "linger_ms": self.linger_ms,
            "client_id": self.client_id,
        }

    def consumer_config(self, group: str, consumer: str) -> dict[str, Any]:
        """Keyword arguments of the ``AIOKafkaConsumer`` of ``group``."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "group_id": group,
            "client_id": consumer,
            "enable_auto_commit": False,
            "auto_offset_reset": self.auto_offset_reset,
        }

    async def push(self, records: list[dict[str, Any]]) -> list[str]:
        """Send the records and wait for the broker; return ``partition:offset`` ids."""
        from aiokafka import AIOKafkaProducer

        payloads = [encode(r) for r in records]  # a bad record fails before anything is sent
        with _translated(self.url, "push"):
            if self._producer is None:
                producer = AIOKafkaProducer(**self.producer_config())
                await _started(producer)
                self._producer = producer
            futures = [await self._producer.send(self.topic, payload) for payload in payloads]
            offsets = []
            for future in futures:
                meta = await future
                offsets.append(f"{meta.partition}:{meta.offset}")
        return offsets

    async def read(
        self, group: str, consumer: str, count: int = 100, block_ms: int = 0
    ) -> list[Record]:
        """Up to ``count`` records from the group's committed position."""
        from aiokafka import AIOKafkaConsumer

        with _translated(self.url, "read"):
            kafka_consumer = self._consumers.get(group)
            if kafka_consumer is None:
                kafka_consumer = AIOKafkaConsumer(
                    self.topic, **self.consumer_config(group, consumer)
                )
                await _started(kafka_consumer)
                self._consumers[group] = kafka_consumer
            batches = await kafka_consumer.getmany(timeout_ms=block_ms, max_records=count)
        return [
            to_record(f"{msg.partition}:{msg.offset}", msg.value)
            for messages in batches.values()
            for msg in messages
        ]

    async def ack(self, group: str, offsets: list[str]) -> None:
        """Commit, per partition, the highest acked offset + 1."""
        from aiokafka.structs import OffsetAndMetadata, TopicPartition

        if not offsets:
            return
        kafka_consumer = self._consumers.get(group)
        if kafka_consumer is None:
            raise StreamError(f"cannot ack group {group!r} of {self.url} before reading from it")
        highest: dict[int, int] = {}
        for offset in offsets:
            partition, position = parse_offset(offset)
            highest[partition] = max(highest.get(partition, -1), position)
        commit = {
            TopicPartition(self.topic, p): OffsetAndMetadata(o + 1, "") for p, o in highest.items()
        }
        with _translated(self.url, "ack"):
            await kafka_consumer.commit(commit)

    async def close(self) -> None:
        """Stop the producer and consumers."""
        with _translated(self.url, "close"):
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
            for kafka_consumer in self._consumers.values():
                await kafka_consumer.stop()
            self._consumers.clear()

    def __repr__(self) -> str:
        return f"KafkaStream({self.url!r})"
