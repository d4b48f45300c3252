"""The interface of an ingestion engine: compute a batch's feature rows.

``ingest`` validates the source and writes the targets; an engine only turns
the prepared rows (plus, for appends, the stored rows still inside the
aggregation windows) into the ingested rows: the transformation graph, then
the aggregations. Every engine returns the same rows in the source's order.
"""

from __future__ import annotations

import abc
from typing import Any

import pandas as pd

from ..feature_set import FeatureSet
from ..pipeline import Transform, rename_map


class IngestEngine(abc.ABC):
    """Computes the rows of a batch ingestion; one subclass per engine."""

    name: str = ""
    #: the engine writes the offline target itself (``ingest`` must not write it again)
    writes_offline: bool = False

    @abc.abstractmethod
    def run(
        self,
        fset: FeatureSet,
        df: pd.DataFrame,
        transforms: list[Transform],
        history: pd.DataFrame | None,
        overwrite: bool,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """The ingested rows of ``df`` (``history``: earlier rows that only warm the windows)."""


def order_columns(fset: FeatureSet, df: pd.DataFrame, source_columns: Any = ()) -> pd.DataFrame:
    """Entities, timestamp, source columns, added columns, then the aggregation features."""
    renames = {k: v for k, v in rename_map(fset).items() if k in df.columns}
    if renames:
        df = df.rename(columns=renames)
    first = [*fset.entity_names, *([fset.timestamp_key] if fset.timestamp_key else [])]
    aggs = [n for a in fset.aggregations for n in a.feature_names() if n in df.columns]
    known = set(first) | set(aggs)
    middle = [c for c in source_columns if c in df.columns and c not in known]
    rest = [c for c in df.columns if c not in known and c not in middle]
    order = [c for c in first if c in df.columns] + middle + rest + aggs
    if order != list(df.columns):
        df = df[order]
    ts = fset.timestamp_key
    if ts is not None and ts in df.columns and not pd.api.types.is_datetime64_any_dtype(df[ts]):
        df = df.assign(**{ts: pd.to_datetime(df[ts])})
    return df
