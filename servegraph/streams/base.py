"""The stream interface every backend implements (file log, Redis Streams, Kafka).

A stream is an append-only sequence of JSON-serialisable records. Producers
``push``; consumers read as members of a consumer group, process, then ``ack``
the offsets they finished (at-least-once). Unacked records are re-delivered to
the group after a restart. Backends are chosen by URL with
``servegraph.streams.get_stream(url)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Record:
    """One record read from a stream: its offset (backend-specific, ordered) and data.

    An entry this library did not write (not JSON, not a JSON object, a Redis
    entry without a ``data`` field) is still delivered, so it can be acked:
    ``malformed`` says what is wrong and ``data`` is ``{"raw": <its text>}``.
    """

    offset: str
    data: dict[str, Any]
    malformed: str | None = None


@runtime_checkable
class Stream(Protocol):
    """A stream of records; see the module docstring for the semantics."""

    url: str

    async def push(self, records: list[dict[str, Any]]) -> list[str]:
        """Append records in order; return their offsets."""
        ...

    async def read(
        self, group: str, consumer: str, count: int = 100, block_ms: int = 0
    ) -> list[Record]:
        """Return up to ``count`` records not yet delivered to ``group`` (pending first)."""
        ...

    async def ack(self, group: str, offsets: list[str]) -> None:
        """Mark records as processed by ``group``; they are not delivered again."""
        ...

    async def close(self) -> None:
        """Release connections and file handles."""
        ...
