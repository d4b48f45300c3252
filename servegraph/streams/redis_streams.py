"""Redis Streams backend: ``redis://[user:password@]host:port/stream[?options]``.

Each record is one stream entry with a single ``data`` field holding its JSON.
``push`` is one ``XADD`` per record in a MULTI/EXEC pipeline, trimmed with
``MAXLEN ~ maxlen``. Consumer groups are created on first use
(``XGROUP CREATE ... MKSTREAM``). ``read`` delivers, in this order: the
consumer's own pending entries (delivered before but never acked, e.g. before
a restart), entries of other consumers idle for ``claim_idle_ms`` (taken over
with ``XAUTOCLAIM``), then new entries (``XREADGROUP >``). ``ack`` is ``XACK``.
Own pending entries that ``MAXLEN`` trimmed away are acked and skipped.

URL query options: ``db`` (database number), ``maxlen``, ``claim_idle_ms``,
``timeout_s`` (socket and connect timeout). Redis errors become
:class:`~servegraph.errors.StreamUnavailableError` (connection, timeout) or
:class:`~servegraph.errors.StreamError`.

>>> stream = RedisStream("redis://localhost:6379/events?maxlen=1000")
>>> stream.name, stream.maxlen
('events', 1000)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from servegraph.errors import ConfigError, RecordEncodingError, StreamError, StreamUnavailableError
from servegraph.streams.base import Record
from servegraph.streams.codec import encode, to_record

_FIELD = b"data"


def _int_option(url: str, options: dict[str, list[str]], name: str, default: int) -> int:
    if name not in options:
        return default
    value = options[name][-1]
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ConfigError(
            f"The '{name}' option of the stream URL {url!r} must be a non-negative int. "
            f"Got {value!r} instead."
        )
    return number


@contextmanager
def _translated(url: str, action: str) -> Iterator[None]:
    """Map redis-py exceptions to the servegraph tree."""
    try:
        yield
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        raise StreamUnavailableError(f"Redis at {url} is unreachable ({action}): {exc}") from exc
    except redis_errors.RedisError as exc:
        raise StreamError(f"Redis stream {url} failed to {action}: {exc}") from exc


def _decode(entry_id: bytes | str) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


class RedisStream:
    """A Redis stream; see the module docstring for URL options and semantics."""

    def __init__(
        self,
        url: str,
        *,
        maxlen: int | None = None,
        claim_idle_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> None:
        parts = urlsplit(url)
        name = unquote(parts.path.strip("/"))
        if parts.scheme not in ("redis", "rediss") or not parts.hostname or not name:
            raise ConfigError(
                "The 'url' parameter of RedisStream must look like "
                f"'redis://host:port/stream'. Got {url!r} instead."
            )
        options = parse_qs(parts.query)
        self.url = url
        self.name = name
        self.maxlen = (
            maxlen if maxlen is not None else _int_option(url, options, "maxlen", 1_000_000)
        )
        self.claim_idle_ms = (
            claim_idle_ms
            if claim_idle_ms is not None
            else _int_option(url, options, "claim_idle_ms", 60_000)
        )
        timeout = timeout_s if timeout_s is not None else _int_option(url, options, "timeout_s", 5)
        self.host = parts.hostname
        self.port = parts.port or 6379
        self.db = _int_option(url, options, "db", 0)
        self._client = aioredis.Redis(
            host=self.host,
            port=self.port,
            db=self.db,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=parts.scheme == "rediss",
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self._groups: set[str] = set()
        self._own_pending: dict[tuple[str, str], str] = {}  # next id to page own pending from
        self._claim_cursor: dict[str, str] = {}

    async def push(self, records: list[dict[str, Any]]) -> list[str]:
        """``XADD`` the records in one transaction; return their entry ids."""
        if not records:
            return []
        try:
            payloads = [encode(r) for r in records]
        except RecordEncodingError as exc:
            raise RecordEncodingError(f"records pushed to {self.url}: {exc}") from exc
        with _translated(self.url, "push"):
            async with self._client.pipeline(transaction=True) as pipe:
                for payload in payloads:
                    pipe.xadd(self.name, {_FIELD: payload}, maxlen=self.maxlen, approximate=True)
                ids = await pipe.execute()
        return [_decode(i) for i in ids]

    async def _ensure_group(self, group: str) -> None:
        if group in self._groups:
            return
        with _translated(self.url, f"create group {group!r}"):
            try:
                await self._client.xgroup_create(self.name, group, id="0", mkstream=True)
            except redis_errors.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups.add(group)

    def _records(self, entries: list[Any]) -> list[Record]:
        out = []
        for entry_id, fields in entries:
            if entry_id is None or not fields:
                continue  # trimmed away while pending
            out.append(to_record(_decode(entry_id), fields.get(_FIELD)))
        return out

    async def read(
        self, group: str, consumer: str, count: int = 100, block_ms: int = 0
    ) -> list[Record]:
        """Own pending entries first, then idle entries of others, then new ones."""
        await self._ensure_group(group)
        with _translated(self.url, "read"):
            key = (group, consumer)
            start = self._own_pending.get(key, "0")
            while start:
                reply = await self._client.xreadgroup(group, consumer, {self.name: start}, count)
                entries = reply[0][1] if reply else []
                if not entries:
                    self._own_pending[key] = ""  # own backlog drained
                    break
                start = self._own_pending[key] = _decode(entries[-1][0])
                gone = [_decode(i) for i, fields in entries if i is not None and not fields]
                if gone:  # trimmed away while pending: nothing to deliver, drop them
                    await self._client.xack(self.name, group, *gone)  # type: ignore[no-untyped-call]
                records = self._records(entries)
                if records:
                    return records
            cursor = self._claim_cursor.get(group, "0-0")
            claimed = await self._client.xautoclaim(
                self.name, group, consumer, self.claim_idle_ms, start_id=cursor, count=count
            )
            self._claim_cursor[group] = _decode(claimed[0])
            records = self._records(claimed[1])
            if records:
                return records
            reply = await self._client.xreadgroup(
                group, consumer, {self.name: ">"}, count, block=block_ms or None
            )
            return self._records(reply[0][1]) if reply else []

    async def ack(self, group: str, offsets: list[str]) -> None:
        """``XACK`` the entry ids for ``group``."""
        if not offsets:
            return
        with _translated(self.url, "ack"):
            await self._client.xack(self.name, group, *offsets)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Close the client and its connection pool."""
        with _translated(self.url, "close"):
            await self._client.close()
            await self._client.connection_pool.disconnect()

    def __repr__(self) -> str:
        return f"RedisStream({self.url!r})"
