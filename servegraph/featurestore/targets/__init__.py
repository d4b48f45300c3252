"""Targets of a feature set: Parquet offline, SQLite or Redis online.

>>> target_from_dict({"kind": "parquet", "path": None, "partition": "day"}).kind
'parquet'
"""

from __future__ import annotations

from typing import Any

from servegraph.config import get_config
from servegraph.errors import ConfigError

from .base import BaseTarget, OfflineTarget, OnlineStore, OnlineTarget, WriteReport
from .parquet import ParquetTarget
from .redis import RedisTarget
from .sqlite import SQLiteTarget

__all__ = [
    "BaseTarget",
    "OfflineTarget",
    "OnlineStore",
    "OnlineTarget",
    "ParquetTarget",
    "RedisTarget",
    "SQLiteTarget",
    "WriteReport",
    "default_targets",
    "online_target_for",
    "target_from_dict",
]

_KINDS: dict[str, type[BaseTarget]] = {
    "parquet": ParquetTarget,
    "sqlite": SQLiteTarget,
    "redis": RedisTarget,
}


def target_from_dict(spec: dict[str, Any]) -> BaseTarget:
    """Rebuild a target from its ``to_dict()`` form."""
    options = dict(spec)
    kind = options.pop("kind", None)
    cls = _KINDS.get(str(kind))
    if cls is None:
        raise ConfigError(f"Unknown target kind {kind!r}; expected one of {sorted(_KINDS)}.")
    return cls(**options)


def online_target_for(url: str) -> OnlineTarget:
    """The online target for a store URL (``sqlite:///...`` or ``redis://...``)."""
    if url.startswith(("redis://", "rediss://")):
        return RedisTarget(url)
    if url.startswith("sqlite:///"):
        return SQLiteTarget(url)
    raise ConfigError(f"The online store URL must be sqlite:///... or redis://...; got {url!r}.")


def default_targets() -> list[BaseTarget]:
    """Parquet offline plus the configured online store (``SERVEGRAPH_ONLINE_STORE``)."""
    return [ParquetTarget(), online_target_for(get_config().online_store)]
