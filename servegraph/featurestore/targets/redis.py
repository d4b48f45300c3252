"""The Redis online store: one hash per (feature set, entity), JSON-encoded values.

Key layout: ``{prefix}{project}/{feature set}:{entity key}``, field = feature
name. Writes are ``MULTI``/``EXEC`` transactions of ``batch_size`` entities; a
read of any number of rows is one pipelined round trip (``HMGET`` per row).

>>> RedisTarget("redis://127.0.0.1:6379/0", prefix="t:").to_dict()
{'kind': 'redis', 'url': 'redis://127.0.0.1:6379/0', 'prefix': 't:'}
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import redis
import redis.asyncio as aioredis

from servegraph.config import get_config
from servegraph.errors import ConfigError, OnlineStoreError

from .base import OnlineStore, OnlineTarget, RowKey, WriteReport

DEFAULT_PREFIX = "servegraph:fs:"
_GLOB = re.compile(r"([\\*?\[\]])")


def _glob_escaped(text: str) -> str:
    """``text`` matched literally by a Redis ``MATCH`` pattern.

    >>> _glob_escaped("p/a*[1]")
    'p/a\\\\*\\\\[1\\\\]'
    """
    return _GLOB.sub(r"\\\1", text)


class RedisTarget(OnlineTarget):
    """The Redis online store at ``url`` (default ``SERVEGRAPH_ONLINE_STORE`` if redis)."""

    kind = "redis"

    def __init__(self, url: str | None = None, prefix: str = DEFAULT_PREFIX) -> None:
        url = url or get_config().online_store
        if not url.startswith(("redis://", "rediss://")):
            raise ConfigError(f"The 'url' of RedisTarget must be a redis:// URL. Got {url!r}.")
        self.url = url
        self.prefix = prefix

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": self.url, "prefix": self.prefix}

    def open(self) -> RedisStore:
        return RedisStore(self.url, self.prefix)


class RedisStore(OnlineStore):
    """An open Redis online store (sync client, plus an async client on first ``aread``)."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._client: redis.Redis[bytes] = redis.Redis.from_url(url)
        self._aclient: aioredis.Redis[bytes] | None = None
        self._aloop: asyncio.AbstractEventLoop | None = None

    def key(self, row_key: RowKey) -> str:
        return f"{self.prefix}{row_key[0]}:{row_key[1]}"

    def write(
        self,
        fset_key: str,
        rows: dict[str, dict[str, Any]],
        batch_size: int = 1000,
    ) -> WriteReport:
        """Replace each entity's hash; one MULTI/EXEC per ``batch_size`` entities."""
        items = list(rows.items())
        written = 0
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            try:
                pipe = self._client.pipeline(transaction=True)
                for entity, row in batch:
                    key = self.key((fset_key, entity))
                    pipe.delete(key)
                    if row:
                        pipe.hset(key, mapping={k: json.dumps(v) for k, v in row.items()})
                pipe.execute()
            except (redis.RedisError, TypeError, ValueError) as exc:  # JSON encoding too
                raise OnlineStoreError(
                    f"writing feature set {fset_key!r} to {self.url!r} failed after "
                    f"{written} of {len(items)} entity rows were written "
                    f"(batches of {batch_size} are atomic): {exc}"
                ) from exc
            written += len(batch)
        return WriteReport(self.url, written, len(items))

    @staticmethod
    def _decode(names: list[str], values: list[bytes | None]) -> dict[str, Any] | None:
        """One ``json.loads`` over all values of a row (5x faster than one per value)."""
        if all(v is None for v in values):
            return None
        joined = b",".join(b"null" if v is None else v for v in values)
        return dict(zip(names, json.loads(b"[" + joined + b"]"), strict=True))

    def read(self, keys: list[RowKey], features: list[list[str]]) -> list[dict[str, Any] | None]:
        try:
            if len(keys) == 1:
                results = [self._client.hmget(self.key(keys[0]), features[0])]
            else:
                pipe = self._client.pipeline(transaction=False)
                for key, names in zip(keys, features, strict=True):
                    pipe.hmget(self.key(key), names)
                results = pipe.execute()
        except redis.RedisError as exc:
            raise OnlineStoreError(
                f"reading from the online store {self.url!r} failed: {exc}"
            ) from exc
        return [self._decode(n, v) for n, v in zip(features, results, strict=True)]

    async def aread(
        self, keys: list[RowKey], features: list[list[str]]
    ) -> list[dict[str, Any] | None]:
        loop = asyncio.get_running_loop()
        if self._aclient is None or self._aloop is not loop:  # a client serves one loop
            self._aclient = aioredis.Redis.from_url(self.url)
            self._aloop = loop
        try:
            pipe = self._aclient.pipeline(transaction=False)
            for key, names in zip(keys, features, strict=True):
                pipe.hmget(self.key(key), names)
            results = await pipe.execute()
        except redis.RedisError as exc:
            raise OnlineStoreError(
                f"reading from the online store {self.url!r} failed: {exc}"
            ) from exc
        return [self._decode(n, v) for n, v in zip(features, results, strict=True)]

    def delete(self, fset_key: str) -> None:
        try:
            pattern = f"{_glob_escaped(self.prefix + fset_key)}:*"  # this set's keys only
            keys = list(self._client.scan_iter(match=pattern, count=1000))
            if keys:
                self._client.delete(*keys)
        except redis.RedisError as exc:
            raise OnlineStoreError(
                f"deleting from the online store {self.url!r} failed: {exc}"
            ) from exc

    def close(self) -> None:
        self._client.close()
        self._client.connection_pool.disconnect()

    async def aclose(self) -> None:
        self.close()
        if self._aclient is not None:
            await self._aclient.close(close_connection_pool=True)
            self._aclient = None
