"""The Dask engine: the batch split by entity, each part computed and written by a worker.

Rows are partitioned by entity (every row of an entity in the same part, so the
windows of a part need no other part); each part runs the pandas engine's
computation on a ``dask.distributed`` worker, which writes its rows to the
feature set's Parquet target (hive-partitioned by time) itself. The client
gathers the computed rows for the online target, statistics and return value::

    ingest(fset, df, engine=DaskEngine("tcp://scheduler:8786"))
    ingest(fset, df, engine="dask")    # a LocalCluster started for this ingestion
"""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from typing import Any

import numpy as np
import pandas as pd

from servegraph.errors import FeatureStoreError

from ..feature_set import FeatureSet
from ..pipeline import Transform
from ..targets import ParquetTarget
from .base import IngestEngine
from .pandas import compute

_ROW = "__servegraph_row__"


def _compute_part(
    fset: FeatureSet,
    part: pd.DataFrame,
    transforms: list[Transform],
    history: pd.DataFrame | None,
    batch_id: str | None,
) -> pd.DataFrame:
    """One entity partition: compute, then write it to the Parquet target (on the worker)."""
    out = compute(fset, part, transforms, history)
    if batch_id is not None and not out.empty:
        target = fset.offline_target()
        assert isinstance(target, ParquetTarget)
        rows = out.drop(columns=[_ROW], errors="ignore")
        target.write(fset.key, rows, fset.timestamp_key, overwrite=False, batch_id=batch_id)
    return out


class DaskEngine(IngestEngine):
    """Ingestion on a Dask cluster.

    Parameters: ``client``: a ``distributed.Client``, a scheduler address
    (``tcp://host:8786``) or None (a LocalCluster of ``n_workers`` workers,
    threads of this process unless ``processes``, for each ingestion);
    ``partitions``: entity parts (default: 2 per worker).
    """

    name = "dask"
    writes_offline = True

    def __init__(
        self,
        client: Any = None,
        partitions: int | None = None,
        n_workers: int = 2,
        processes: bool = False,
    ) -> None:
        if partitions is not None and partitions < 1:
            raise FeatureStoreError(
                f"The 'partitions' parameter of DaskEngine must be >= 1. Got {partitions}."
            )
        self.client = client
        self.partitions = partitions
        self.n_workers = n_workers
        self.processes = processes

    def _client(self, stack: ExitStack) -> Any:
        from distributed import Client, LocalCluster

        if self.client is not None and not isinstance(self.client, str):
            return self.client
        if isinstance(self.client, str):
            try:
                return stack.enter_context(Client(self.client))  # type: ignore[no-untyped-call]
            except OSError as exc:
                raise FeatureStoreError(
                    f"cannot reach the Dask scheduler {self.client!r}: {exc}"
                ) from exc
        cluster = stack.enter_context(
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=self.n_workers,
                threads_per_worker=1,
                processes=self.processes,
                dashboard_address=":0",
            )
        )
        return stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]

    def run(
        self,
        fset: FeatureSet,
        df: pd.DataFrame,
        transforms: list[Transform],
        history: pd.DataFrame | None,
        overwrite: bool,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        target = fset.offline_target()
        writes = self.writes_offline = isinstance(target, ParquetTarget)
        if isinstance(target, ParquetTarget) and overwrite:
            target.clear(fset.key)
        token = uuid.uuid4().hex[:12]
        with ExitStack() as stack:
            client = self._client(stack)
            workers = max(len(client.scheduler_info().get("workers", {})), 1)
            n_parts = self.partitions or 2 * workers
            frame = df.reset_index(drop=True).assign(**{_ROW: np.arange(len(df))})
            parts = _split(frame, fset.entity_names, n_parts)
            histories = _split(history, fset.entity_names, n_parts)
            spec = _worker_copy(fset)
            work = [
                (i, part, hist)
                for i, (part, hist) in enumerate(zip(parts, histories, strict=True))
                if part is not None and not part.empty
            ]
            # the data goes to the workers as scattered futures, not inside the task graph
            scattered = client.scatter([part for _, part, _ in work])
            futures = [
                client.submit(
                    _compute_part,
                    spec,
                    part,
                    transforms,
                    hist,
                    f"{token}-{i}" if writes else None,
                    pure=False,
                )
                for (i, _, hist), part in zip(work, scattered, strict=True)
            ]
            results = client.gather(futures)
        if not results:
            return pd.DataFrame(columns=df.columns)
        out: pd.DataFrame = pd.concat(results, ignore_index=True)
        if _ROW in out.columns:
            out = out.sort_values(_ROW, kind="stable").drop(columns=[_ROW])
        elif fset.timestamp_key is not None and fset.timestamp_key in out.columns:
            out = out.sort_values(fset.timestamp_key, kind="stable")  # a step dropped _ROW
        return out.reset_index(drop=True)


def _worker_copy(fset: FeatureSet) -> FeatureSet:
    """What a worker needs of ``fset``: entities, aggregations, the resolved Parquet path."""
    copy = FeatureSet(
        fset.name, list(fset.entities), fset.timestamp_key, fset.engine, project=fset.project
    )
    copy.aggregations = list(fset.aggregations)
    target = fset.offline_target()
    if isinstance(target, ParquetTarget):
        path = str(target.location(fset.key).resolve())
        copy.targets = [ParquetTarget(path, target.partition)]
    return copy


def _split(df: pd.DataFrame | None, keys: list[str], n_parts: int) -> list[pd.DataFrame | None]:
    """``df``'s rows in ``n_parts`` parts by a hash of the entity values."""
    if df is None:
        return [None] * n_parts
    if df.empty:
        return [df] * n_parts
    hashed = pd.util.hash_pandas_object(df[keys], index=False).to_numpy()
    part = hashed % np.uint64(n_parts)
    return [df[part == i].reset_index(drop=True) for i in range(n_parts)]
