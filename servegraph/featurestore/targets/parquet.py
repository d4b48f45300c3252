"""The offline target: Parquet files under the offline root, partitioned by time.

>>> ParquetTarget(partition="day").to_dict()
{'kind': 'parquet', 'path': None, 'partition': 'day'}
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from servegraph.config import get_config
from servegraph.errors import FeatureStoreError
from servegraph.names import check_name, under

from .base import OfflineTarget

_PARTITION_LEVELS = ("year", "month", "day", "hour")


class ParquetTarget(OfflineTarget):
    """Parquet files at ``path`` (default ``$SERVEGRAPH_OFFLINE_PATH/{project}/{set}``),
    partitioned ``year=/month=/day=`` (up to ``partition``) by the timestamp key."""

    kind = "parquet"

    def __init__(self, path: str | None = None, partition: str | None = "day") -> None:
        if partition is not None and partition not in _PARTITION_LEVELS:
            raise FeatureStoreError(
                f"The 'partition' parameter of ParquetTarget must be one of "
                f"{_PARTITION_LEVELS} or None. Got {partition!r} instead."
            )
        self.path = path
        self.partition = partition

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "partition": self.partition}

    def location(self, fset_key: str) -> Path:
        """The explicit ``path``, else the set's own folder strictly inside the offline root."""
        if self.path:
            return Path(self.path)
        project, name = fset_key.split("/", 1)
        root = get_config().offline_path
        return under(root, check_name("project", project), check_name("feature set", name))

    def _levels(self, timestamp_key: str | None) -> list[str]:
        if timestamp_key is None or self.partition is None:
            return []
        return list(_PARTITION_LEVELS[: _PARTITION_LEVELS.index(self.partition) + 1])

    def clear(self, fset_key: str) -> None:
        """Remove every stored row of a feature set."""
        root = self.location(fset_key)
        if root.exists():
            shutil.rmtree(root)

    def write(
        self,
        fset_key: str,
        df: pd.DataFrame,
        timestamp_key: str | None,
        overwrite: bool,
        batch_id: str | None = None,
    ) -> None:
        """Write ``df``; files are named by ``batch_id`` (unique among concurrent writers)."""
        root = self.location(fset_key)
        if overwrite:
            self.clear(fset_key)
        root.mkdir(parents=True, exist_ok=True)
        levels = self._levels(timestamp_key)
        table = pa.Table.from_pandas(df, preserve_index=False)
        if levels:  # partition columns added to the Arrow table: no copy of the frame
            times = df[timestamp_key]
            if not pd.api.types.is_datetime64_any_dtype(times):
                times = pd.to_datetime(times)
            for lvl in levels:
                table = table.append_column(lvl, pa.array(getattr(times.dt, lvl), pa.int32()))
        ds.write_dataset(
            table,
            root,
            format="parquet",
            partitioning=levels or None,
            partitioning_flavor="hive" if levels else None,
            # a batch's files are named by it: a retried batch overwrites its own files
            basename_template=f"part-{batch_id or pd.Timestamp.now().value}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )

    def read(
        self,
        fset_key: str,
        timestamp_key: str | None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        root = self.location(fset_key)
        if not root.exists():
            raise FeatureStoreError(
                f"The offline target of feature set {fset_key!r} has no data at {root}; "
                f"ingest it first."
            )
        levels = self._levels(timestamp_key)
        dataset = ds.dataset(root, format="parquet", partitioning="hive" if levels else None)
        names = [n for n in dataset.schema.names if n not in levels]
        condition = None
        if timestamp_key is not None and start_time is not None:
            condition = ds.field(timestamp_key) >= pd.Timestamp(start_time)
        if timestamp_key is not None and end_time is not None:
            upper = ds.field(timestamp_key) < pd.Timestamp(end_time)
            condition = upper if condition is None else condition & upper
        wanted = [c for c in names if columns is None or c in columns]
        df: pd.DataFrame = dataset.to_table(columns=wanted, filter=condition).to_pandas()
        if timestamp_key is not None and timestamp_key in df.columns:
            df = df.sort_values(timestamp_key, kind="stable").reset_index(drop=True)
        return df
