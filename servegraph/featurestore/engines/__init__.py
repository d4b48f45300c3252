"""Ingestion engines: ``storey`` (row by row, the engine of streams), ``pandas``
(vectorized, the default for DataFrames and files) and ``dask`` (by entity on a
Dask cluster). All three compute the same rows.

>>> get_engine("pandas").name
'pandas'
>>> default_engine_name(StreamSource("file:///tmp/s"))
'storey'
"""

from __future__ import annotations

from typing import Any

from servegraph.errors import FeatureStoreError

from ..sources import StreamSource
from .base import IngestEngine
from .dask import DaskEngine
from .pandas import PandasEngine
from .storey import StoreyEngine

__all__ = [
    "ENGINES",
    "DaskEngine",
    "IngestEngine",
    "PandasEngine",
    "StoreyEngine",
    "default_engine_name",
    "get_engine",
]

ENGINES: dict[str, type[IngestEngine]] = {
    "storey": StoreyEngine,
    "pandas": PandasEngine,
    "dask": DaskEngine,
}


def default_engine_name(source: Any) -> str:
    """storey for a stream, pandas for a batch (DataFrame, CSV or Parquet)."""
    return "storey" if isinstance(source, StreamSource) else "pandas"


def get_engine(engine: str | IngestEngine) -> IngestEngine:
    """An engine by name (or the given engine object)."""
    if isinstance(engine, IngestEngine):
        return engine
    cls = ENGINES.get(engine)
    if cls is None:
        raise FeatureStoreError(
            f"The 'engine' parameter of ingest must be one of {sorted(ENGINES)} or an "
            f"IngestEngine. Got {engine!r} instead."
        )
    return cls()
