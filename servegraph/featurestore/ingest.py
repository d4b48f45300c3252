"""Ingestion: run a feature set's pipeline over a source and write its targets.

``ingest(fset, df)`` validates the input, runs the transformation graph and the
aggregations on an engine (``pandas`` for batches by default, ``storey``, ``dask``;
see :mod:`servegraph.featurestore.engines`), writes the offline target (all rows) and the online
target (the latest row per entity, atomically), infers the schema, computes the
reference statistics and saves the feature set in the catalog::

    fset = FeatureSet("orders", entities=["customer_id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum", "avg"], ["1h", "1d"], period="10m")
    df = ingest(fset, orders_df)

Real-time: ``await ingest_stream(fset, StreamSource(stream))`` is a coroutine;
from sync code, ``ingest_stream_sync(fset, StreamSource(stream))`` (or ``ingest``
with a StreamSource) runs it to the end and returns the record count.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
from typing import Any

import pandas as pd
import storey

from servegraph.errors import EntityError, FeatureStoreError, SchemaError

from .engines import IngestEngine, default_engine_name, get_engine
from .engines.base import order_columns
from .feature_set import FeatureSet, get_feature_set
from .model import Feature, compatible, value_type_of
from .pipeline import WARMUP, Transform, row_steps, transformations
from .sources import StreamSource, read_batch_source
from .stats import compute_stats
from .targets import BaseTarget
from .writer import write_targets

logger = logging.getLogger(__name__)

_NUMERIC_FREE_OPS = {"count", "first", "last"}


class InferOptions(enum.IntFlag):
    """What ``ingest`` infers: the schema (features and types), the statistics, or both."""

    NONE = 0
    SCHEMA = 1
    STATS = 2
    ALL = 3


def ingest(
    featureset: FeatureSet | str,
    source: Any,
    targets: list[BaseTarget] | None = None,
    infer_options: InferOptions = InferOptions.ALL,
    overwrite: bool | None = None,
    namespace: dict[str, Any] | None = None,
    progress: bool | None = None,
    engine: str | IngestEngine | None = None,
) -> pd.DataFrame | None:
    """Ingest ``source`` (DataFrame, CSV/Parquet path or URL, StreamSource) into a feature set.

    ``engine``: ``"pandas"`` (default for a DataFrame or file: vectorized),
    ``"storey"`` (default for a stream: row by row), ``"dask"`` or an engine object
    such as ``DaskEngine("tcp://scheduler:8786")``; all compute the same rows.
    ``progress`` forces the rich progress bar of a batch ingestion on (True) or off
    (False); None shows it on a terminal for 10,000 rows or more.

    Returns the ingested rows (None for a stream). ``overwrite`` (default True for
    batch) replaces the offline data; ``overwrite=False`` appends, and the
    aggregation windows continue from the offline rows already stored.
    """
    fset = get_feature_set(featureset)
    if targets:
        fset.set_targets(targets)
    chosen = get_engine(engine or default_engine_name(source))
    if isinstance(source, StreamSource):
        if chosen.name != "storey":
            raise FeatureStoreError(
                f"A stream is ingested by the storey engine; got engine {chosen.name!r}."
            )
        asyncio.run(ingest_stream(fset, source, namespace=namespace))
        return None
    df = read_batch_source(source)
    transforms = transformations(fset, namespace)
    df = _prepare(fset, df, transforms)
    overwrite = True if overwrite is None else overwrite
    history = None if overwrite else _aggregation_history(fset, df)
    result = chosen.run(fset, df, transforms, history, overwrite, progress)
    _check_schema(fset, result, infer=bool(infer_options & InferOptions.SCHEMA))
    reports = write_targets(fset, result, overwrite=overwrite, offline=not chosen.writes_offline)
    for report in reports:
        logger.info(
            "ingested %s: %d of %d entity rows into %s",
            fset.uri,
            report.written,
            report.total,
            report.target,
        )
    if infer_options & InferOptions.STATS:
        features = [
            c for c in result.columns if c not in fset.entity_names and c != fset.timestamp_key
        ]
        fset.stats = compute_stats(result[features])
    fset.save()
    return result


def _prepare(fset: FeatureSet, df: pd.DataFrame, transforms: list[Transform]) -> pd.DataFrame:
    """Check entity/timestamp columns, parse times, run pandas-engine transforms."""
    for declared in fset.entities:
        entity = declared.name
        if entity not in df.columns:
            raise EntityError(
                f"The entity column {entity!r} of feature set {fset.name!r} is missing from the "
                f"source; its columns are {list(map(str, df.columns))}."
            )
        nulls = int(df[entity].isna().sum())
        if nulls:
            raise EntityError(
                f"The entity column {entity!r} of feature set {fset.name!r} has {nulls} "
                "null values."
            )
        found = value_type_of(df[entity])
        if declared.value_type and not compatible(declared.value_type, found):
            raise SchemaError(
                f"The entity {entity!r} of feature set {fset.name!r} is "
                f"{declared.value_type!r} but the source column is {found!r}."
            )
    ts = fset.timestamp_key
    if ts is not None:
        if ts not in df.columns:
            raise EntityError(
                f"The timestamp column {ts!r} of feature set {fset.name!r} is missing from the "
                f"source; its columns are {list(map(str, df.columns))}."
            )
        if not pd.api.types.is_datetime64_any_dtype(df[ts]):
            try:
                df = df.assign(**{ts: pd.to_datetime(df[ts])})
            except (ValueError, TypeError) as exc:
                raise SchemaError(
                    f"The timestamp column {ts!r} of feature set {fset.name!r} is not a time: {exc}"
                ) from exc
    if fset.engine == "pandas":
        for fn in transforms:
            df = fn(df)
    if fset.engine == "pandas" or not transforms:
        check_aggregated_columns(fset, df)
    return df


def check_aggregated_columns(fset: FeatureSet, df: pd.DataFrame) -> None:
    for agg in fset.aggregations:
        if agg.column not in df.columns:
            raise SchemaError(
                f"The column {agg.column!r} aggregated by {agg.name!r} in feature set "
                f"{fset.name!r} is missing from the data."
            )
        needs_numbers = set(agg.operations) - _NUMERIC_FREE_OPS
        if needs_numbers and not pd.api.types.is_numeric_dtype(df[agg.column]):
            raise SchemaError(
                f"The column {agg.column!r} has type {df[agg.column].dtype} but aggregation "
                f"{agg.name!r} computes {sorted(needs_numbers)}, which need numbers."
            )


def _aggregation_history(fset: FeatureSet, df: pd.DataFrame) -> pd.DataFrame | None:
    """Offline rows still inside the aggregation windows of ``df``'s first event.

    Appending ingestions replay them through the aggregation (not the transforms,
    not the targets) so windows span ingestions as if the data came in one go.
    """
    ts = fset.timestamp_key
    if not fset.aggregations or ts is None or df.empty:
        return None
    first = df[ts].min()
    back = max(agg.history_needed() for agg in fset.aggregations)
    try:
        history = fset.offline_target().read(fset.key, ts, first - back, first)
    except FeatureStoreError:  # nothing ingested yet
        return None
    columns = {*fset.entity_names, ts, *(agg.column for agg in fset.aggregations)}
    if history.empty or not columns <= set(history.columns):
        return None
    return history[[c for c in history.columns if c in columns]].assign(**{WARMUP: True})


def rows_to_frame(
    fset: FeatureSet, rows: list[dict[str, Any]], source_columns: Any = ()
) -> pd.DataFrame:
    """The flow's output rows as a frame: entities, timestamp, source columns, aggregates."""
    return order_columns(fset, pd.DataFrame(rows), source_columns)


def _check_schema(fset: FeatureSet, df: pd.DataFrame, infer: bool) -> None:
    """Declared features must be present with a compatible type; infer the rest."""
    for feature in fset.features:
        if feature.name not in df.columns:
            raise SchemaError(
                f"Feature {feature.name!r} of feature set {fset.name!r} is missing from the "
                f"ingested data."
            )
        values = df[feature.name]
        found = value_type_of(values)
        if values.isna().all():
            continue  # no values, no type: a batch where every value is missing
        if feature.value_type and not compatible(feature.value_type, found):
            raise SchemaError(
                f"Feature {feature.name!r} of feature set {fset.name!r} is {feature.value_type!r} "
                f"but the ingested column is {found!r}."
            )
    if not infer:
        return
    declared = {f.name for f in fset.features}
    skip = set(fset.entity_names) | {fset.timestamp_key} | declared
    for column in df.columns:
        if column not in skip:
            fset.features.append(Feature(str(column), value_type_of(df[column])))
    for entity in fset.entities:
        if entity.value_type is None:
            entity.value_type = value_type_of(df[entity.name])


async def ingest_stream(
    featureset: FeatureSet | str,
    source: StreamSource,
    targets: list[BaseTarget] | None = None,
    namespace: dict[str, Any] | None = None,
) -> int:
    """Real-time ingestion, a coroutine (``await`` it; ``ingest_stream_sync`` from sync code):
    read records, run the pipeline (aggregation state kept across
    reads, and restored at start from the offline rows still inside the windows), write
    each read's rows (online atomically), then ack. Returns the record count."""
    fset = get_feature_set(featureset)
    if targets:
        fset.set_targets(targets)
    transforms = transformations(fset, namespace)
    steps = row_steps(fset, transforms)
    controller = storey.build_flow([storey.AsyncEmitSource(), *steps, storey.Complete()]).run()
    stream = source.open()
    total = 0
    try:
        while source.max_records is None or total < source.max_records:
            records = await stream.read(
                source.group, source.consumer, source.count, source.block_ms
            )
            if not records:
                if source.stop_on_empty:
                    break
                continue
            bodies = [r.data for r in records if r.malformed is None]
            for record in records:
                if record.malformed is not None:
                    logger.warning("ingest skips entry %s: %s", record.offset, record.malformed)
            batch = _prepare(fset, pd.DataFrame(bodies), transforms)
            if total == 0:  # restore the windows from the rows stored before this run
                history = _aggregation_history(fset, batch)
                for body in [] if history is None else history.to_dict("records"):
                    await controller.emit(body)
            rows = [await controller.emit(body) for body in batch.to_dict("records")]
            frame = rows_to_frame(fset, rows, batch.columns)
            _check_schema(fset, frame, infer=not fset.features)
            batch_id = hashlib.sha1("\n".join(r.offset for r in records).encode()).hexdigest()
            write_targets(fset, frame, overwrite=False, batch_id=batch_id[:16])
            await stream.ack(source.group, [r.offset for r in records])
            total += len(records)
    finally:
        await controller.terminate(wait=True)
    fset.save()
    return total


def ingest_stream_sync(
    featureset: FeatureSet | str,
    source: StreamSource,
    targets: list[BaseTarget] | None = None,
    namespace: dict[str, Any] | None = None,
) -> int:
    """:func:`ingest_stream` from sync code: runs it to the end, returns the record count.

    Inside a running event loop (a notebook cell, an ``async def``), ``await
    ingest_stream(...)`` instead: this raises FeatureStoreError there.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(ingest_stream(featureset, source, targets, namespace))
    raise FeatureStoreError(
        "ingest_stream_sync() was called inside a running event loop; "
        "use 'await ingest_stream(...)' there."
    )
