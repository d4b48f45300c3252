"""The embedded online store: one SQLite table of JSON rows keyed by (feature set, entity).

Every write is one transaction; a read of any number of rows is one query.

>>> SQLiteTarget("sqlite:////tmp/online.db").to_dict()
{'kind': 'sqlite', 'url': 'sqlite:////tmp/online.db'}
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from servegraph.config import get_config
from servegraph.errors import ConfigError, OnlineStoreError

from .base import OnlineStore, OnlineTarget, RowKey, WriteReport

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS online_features "
    "(fset TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (fset, key)) "
    "WITHOUT ROWID"
)


def _sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise ConfigError(f"The 'url' of SQLiteTarget must start with 'sqlite:///'. Got {url!r}.")
    return url[len("sqlite:///") :]


class SQLiteTarget(OnlineTarget):
    """The SQLite online store at ``url`` (default: ``SERVEGRAPH_ONLINE_STORE``'s SQLite)."""

    kind = "sqlite"

    def __init__(self, url: str | None = None) -> None:
        self.url = url or get_config().online_store
        _sqlite_path(self.url)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": self.url}

    def open(self) -> SQLiteStore:
        return SQLiteStore(self.url)


class SQLiteStore(OnlineStore):
    """An open SQLite online store (thread-safe; one connection guarded by a lock)."""

    def __init__(self, url: str) -> None:
        self.url = url
        path = _sqlite_path(url)
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OnlineStoreError(f"cannot open the SQLite online store {url!r}: {exc}") from exc
        self._lock = threading.Lock()

    def write(
        self,
        fset_key: str,
        rows: dict[str, dict[str, Any]],
        batch_size: int = 1000,
    ) -> WriteReport:
        """All rows in one transaction: either every row is written or none."""
        params = ((fset_key, key, json.dumps(row)) for key, row in rows.items())
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "INSERT OR REPLACE INTO online_features (fset, key, data) VALUES (?, ?, ?)",
                    params,
                )
                self._conn.execute("COMMIT")
            except (sqlite3.Error, TypeError, ValueError) as exc:  # JSON encoding too
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise OnlineStoreError(
                    f"writing {len(rows)} rows of feature set {fset_key!r} to {self.url!r} "
                    f"failed and was rolled back (0 written): {exc}"
                ) from exc
        return WriteReport(self.url, len(rows), len(rows))

    def read(self, keys: list[RowKey], features: list[list[str]]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        values = ", ".join("(?, ?)" for _ in keys)
        flat = [part for key in keys for part in key]
        with self._lock:
            try:
                found = self._conn.execute(
                    "SELECT fset, key, data FROM online_features "
                    f"WHERE (fset, key) IN (VALUES {values})",
                    flat,
                ).fetchall()
            except sqlite3.Error as exc:
                raise OnlineStoreError(f"reading from {self.url!r} failed: {exc}") from exc
        rows = {(fset, key): data for fset, key, data in found}
        out: list[dict[str, Any] | None] = []
        for key, names in zip(keys, features, strict=True):
            data = rows.get(key)
            if data is None:
                out.append(None)
                continue
            row = json.loads(data)
            out.append({name: row.get(name) for name in names})
        return out

    def delete(self, fset_key: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM online_features WHERE fset = ?", (fset_key,))

    def close(self) -> None:
        self._conn.close()
