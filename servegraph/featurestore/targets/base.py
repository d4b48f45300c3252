"""The target interfaces: an offline target stores every row, an online target
the latest row per entity.

An online target is a spec (kind, url, options) that opens an
:class:`OnlineStore`; the store writes whole batches atomically and reads any
number of (feature set, entity) rows in one round trip.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

# (feature set key "project/name", entity key) -> row
RowKey = tuple[str, str]


@dataclass(frozen=True)
class WriteReport:
    """What an online write did: ``written`` of ``total`` entity rows."""

    target: str
    written: int
    total: int


class BaseTarget(abc.ABC):
    """A storage target of a feature set, serialised in the feature set's spec."""

    kind: str = ""
    online: bool = False

    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The target as a plain dict with ``kind``; ``target_from_dict`` reverses it."""


class OfflineTarget(BaseTarget):
    """Stores every ingested row of a feature set (history, for training)."""

    @abc.abstractmethod
    def write(
        self,
        fset_key: str,
        df: pd.DataFrame,
        timestamp_key: str | None,
        overwrite: bool,
        batch_id: str | None = None,
    ) -> None:
        """Append (or with ``overwrite`` replace) the rows of ``df``; writing the same
        ``batch_id`` again replaces that batch's rows instead of adding them twice."""

    @abc.abstractmethod
    def read(
        self,
        fset_key: str,
        timestamp_key: str | None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """The stored rows, optionally within [start_time, end_time)."""


class OnlineStore(abc.ABC):
    """An open connection to an online store."""

    url: str

    @abc.abstractmethod
    def write(
        self,
        fset_key: str,
        rows: dict[str, dict[str, Any]],
        batch_size: int = 1000,
    ) -> WriteReport:
        """Replace the rows of the given entity keys; atomic per batch (raise naming what
        was written if a batch fails)."""

    @abc.abstractmethod
    def read(self, keys: list[RowKey], features: list[list[str]]) -> list[dict[str, Any] | None]:
        """Rows (``features[i]`` of row ``i``) for ``keys``, None when absent; one round trip."""

    async def aread(
        self, keys: list[RowKey], features: list[list[str]]
    ) -> list[dict[str, Any] | None]:
        """``read`` without blocking the event loop (default: the sync call, for fast stores)."""
        return self.read(keys, features)

    @abc.abstractmethod
    def delete(self, fset_key: str) -> None:
        """Remove every row of a feature set."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    async def aclose(self) -> None:
        """Release async connections."""
        self.close()


class OnlineTarget(BaseTarget):
    """Holds the latest feature values per entity (serving)."""

    online = True

    @abc.abstractmethod
    def open(self) -> OnlineStore:
        """Open a connection to the store."""


def jsonable(value: Any) -> Any:
    """A plain JSON value for a cell: numpy scalars unwrapped, NaN/NaT -> None, times ISO."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return None if pd.isna(value) else value.isoformat()
    if hasattr(value, "item") and not isinstance(value, list | dict):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
