"""Offline retrieval: point-in-time correct feature vectors for training.

Each entity row gets, per feature set, the latest row of its entity whose
timestamp is at or before the entity row's timestamp (``pd.merge_asof``
backward): never a later one, so no future leakage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from servegraph.errors import EntityError, SchemaError

from .vector import FeatureVector, VectorPart, get_feature_vector, parse_feature

_ROW = "__servegraph_row__"


def get_offline_features(
    vector: FeatureVector | str,
    entity_rows: pd.DataFrame | None = None,
    entity_timestamp_column: str | None = None,
    start_time: datetime | str | None = None,
    end_time: datetime | str | None = None,
) -> pd.DataFrame:
    """The vector's features (and label) joined onto ``entity_rows``, point in time.

    Without ``entity_rows`` the rows of the first feature set are the spine.
    Without ``entity_timestamp_column`` each entity gets its latest row (before
    ``end_time`` if given). Feature rows are read within [start_time, end_time).
    Returns the entity rows, in their order, with one column per feature.
    """
    vec = get_feature_vector(vector)
    parts = vec.parts(with_label=True)
    start = pd.Timestamp(start_time) if start_time is not None else None
    end = pd.Timestamp(end_time) if end_time is not None else None
    frames = [_read(part, start, end) for part in parts]
    if entity_rows is None:
        first = parts[0].fset
        keys = [*first.entity_names, *([first.timestamp_key] if first.timestamp_key else [])]
        spine = frames[0][keys].copy()
        entity_timestamp_column = first.timestamp_key
    else:
        spine = entity_rows.copy()
    if entity_timestamp_column is not None:
        if entity_timestamp_column not in spine.columns:
            raise EntityError(
                f"The 'entity_timestamp_column' {entity_timestamp_column!r} is not a column of "
                f"entity_rows; its columns are {list(map(str, spine.columns))}."
            )
        spine[entity_timestamp_column] = _as_ns(
            spine[entity_timestamp_column], entity_timestamp_column
        )
    spine[_ROW] = range(len(spine))
    for part, frame in zip(parts, frames, strict=True):
        spine = _join(spine, part, frame, entity_timestamp_column)
    out = spine.sort_values(_ROW, kind="stable").drop(columns=_ROW)
    if vec.label_feature:  # the label goes last
        _, feature, alias = parse_feature(vec.label_feature)
        label = alias or feature
        out = out[[c for c in out.columns if c != label] + [label]]
    return out.reset_index(drop=True)


def _as_ns(column: pd.Series, name: str) -> pd.Series:
    try:
        times = pd.to_datetime(column)
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"The time column {name!r} does not hold times: {exc}") from exc
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.astype("datetime64[ns]")


def _read(part: VectorPart, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    fset = part.fset
    ts = fset.timestamp_key
    columns = [*fset.entity_names, *([ts] if ts else []), *part.names]
    frame = fset.offline_target().read(fset.key, ts, start, end, columns=columns)
    if ts is not None:
        frame[ts] = _as_ns(frame[ts], ts)
    return frame


def _join(
    spine: pd.DataFrame, part: VectorPart, frame: pd.DataFrame, spine_ts: str | None
) -> pd.DataFrame:
    fset = part.fset
    keys = fset.entity_names
    missing = [k for k in keys if k not in spine.columns]
    if missing:
        raise EntityError(
            f"The entity rows lack the entity column(s) {missing} of feature set {fset.name!r}."
        )
    renames: dict[str, Any] = dict(part.features)
    right = frame[[*keys, *([fset.timestamp_key] if fset.timestamp_key else []), *part.names]]
    right = right.rename(columns=renames)
    outputs = list(renames.values())
    spine = spine.drop(columns=[c for c in outputs if c in spine.columns and c not in keys])
    ts = fset.timestamp_key
    for key in keys:  # merge keys must share a dtype
        if right[key].dtype != spine[key].dtype:
            right = right.assign(**{key: right[key].astype(spine[key].dtype)})
    if ts is None or spine_ts is None:
        if ts is not None:
            right = right.sort_values(ts, kind="stable")
        latest = right.groupby(keys, sort=False).tail(1)[[*keys, *outputs]]
        return spine.merge(latest, on=keys, how="left")
    right = right.rename(columns={ts: "__fs_time__"}).sort_values("__fs_time__", kind="stable")
    left = spine.sort_values(spine_ts, kind="stable")
    merged = pd.merge_asof(
        left,
        right,
        left_on=spine_ts,
        right_on="__fs_time__",
        by=keys,
        direction="backward",
        allow_exact_matches=True,
    )
    return merged.drop(columns="__fs_time__")
