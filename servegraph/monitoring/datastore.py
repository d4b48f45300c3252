"""Logged data at rest: Parquet files per endpoint and time window.

``WindowStore.append`` writes a new part file atomically (write, then rename);
``load`` reads every part of a window and drops rows seen twice (same stream
offset and row), so a batch re-delivered after a crash is stored again but
counted once.

>>> import pandas as pd, tempfile
>>> store = WindowStore(tempfile.mkdtemp())
>>> part = pd.DataFrame({"_offset": ["1", "1"], "_row": [0, 0], "x": [1.0, 1.0]})
>>> store.append("ep", pd.Timestamp("2026-01-01", tz="UTC"), part)
>>> len(store.load("ep", pd.Timestamp("2026-01-01", tz="UTC")))
1
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from urllib.parse import quote, unquote

import pandas as pd

from servegraph.errors import MonitoringError


def window_key(start: pd.Timestamp) -> str:
    """A window's start as a file-name-safe UTC string."""
    return start.tz_convert("UTC").strftime("%Y%m%dT%H%M%SZ")


class WindowStore:
    """Parquet part files under ``root/<endpoint>/<window start>/``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _dir(self, endpoint: str, start: pd.Timestamp) -> Path:
        return self.root / quote(endpoint, safe="") / window_key(start)

    def append(self, endpoint: str, start: pd.Timestamp, df: pd.DataFrame) -> None:
        """Store ``df`` as a new part of the window."""
        directory = self._dir(endpoint, start)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"  # write order
            tmp = directory / f".{name}.tmp"
            df.to_parquet(tmp, index=False)
            os.replace(tmp, directory / name)
        except OSError as exc:
            raise MonitoringError(f"cannot store logged data in {directory}: {exc}") from exc

    def load(self, endpoint: str, start: pd.Timestamp) -> pd.DataFrame:
        """Every row of the window once (an empty frame if there is none)."""
        parts = sorted(self._dir(endpoint, start).glob("part-*.parquet"))
        if not parts:
            return pd.DataFrame()
        df = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        return df.drop_duplicates(["_offset", "_row"], keep="first", ignore_index=True)

    def endpoints(self) -> list[str]:
        """Endpoints with stored data."""
        if not self.root.exists():
            return []
        return sorted(unquote(p.name) for p in self.root.iterdir() if p.is_dir())
