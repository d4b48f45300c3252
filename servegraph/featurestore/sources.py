"""Ingestion sources: a DataFrame, a CSV/Parquet path or URL, or a stream.

Batch sources are read into a DataFrame (pandas reads fsspec URLs);
:class:`StreamSource` feeds real-time ingestion from any
``servegraph.streams`` stream (or any object with the Stream protocol's
``read``/``ack``), acknowledging records once their rows are written.

>>> StreamSource("file:///tmp/s", group="g").group
'g'
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pandas as pd

from servegraph.errors import FeatureStoreError
from servegraph.streams.base import Stream


class StreamSource:
    """Records of a stream, read as consumer ``consumer`` of ``group``.

    ``stream`` is a Stream object or a stream URL (resolved by
    ``servegraph.streams.get_stream``). ``count``/``block_ms`` are per read;
    with ``stop_on_empty`` ingestion ends when a read returns nothing, else it
    runs until cancelled or ``max_records`` are ingested.
    """

    def __init__(
        self,
        stream: Stream | str,
        group: str = "featurestore",
        consumer: str = "ingest",
        count: int = 500,
        block_ms: int = 100,
        stop_on_empty: bool = True,
        max_records: int | None = None,
    ) -> None:
        if count < 1:
            raise FeatureStoreError(
                f"The 'count' parameter of StreamSource must be >= 1. Got {count}."
            )
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.count = count
        self.block_ms = block_ms
        self.stop_on_empty = stop_on_empty
        self.max_records = max_records

    def open(self) -> Stream:
        if isinstance(self.stream, str):
            streams = importlib.import_module("servegraph.streams")
            opened: Stream = streams.get_stream(self.stream)
            return opened
        return self.stream


def read_batch_source(source: Any) -> pd.DataFrame:
    """The rows of a batch source: DataFrame, or a .csv / .parquet path or URL (or directory)."""
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, str | Path):
        text = str(source)
        lower = text.lower()
        try:
            if lower.endswith((".csv", ".csv.gz")):
                return pd.read_csv(text)
            if lower.endswith((".parquet", ".pq")) or Path(text).is_dir():
                return pd.read_parquet(text)
        except (OSError, ValueError) as exc:
            raise FeatureStoreError(f"cannot read the ingestion source {text!r}: {exc}") from exc
        raise FeatureStoreError(
            f"The 'source' of ingest must be a DataFrame, a .csv/.parquet path or URL, or a "
            f"StreamSource. Got {text!r}."
        )
    raise FeatureStoreError(
        f"The 'source' of ingest must be a DataFrame, a .csv/.parquet path or URL, or a "
        f"StreamSource. Got {type(source).__name__}."
    )
