"""The per-request record model steps log, and its flattening to one row per input row.

A record is a :class:`~servegraph.tracking_record.TrackingRecord` (the one typed
schema serving builds and this module reads). A row is a
list of feature values (named by the endpoint's feature names, else ``f0``,
``f1``...) or a dict of them. :func:`flatten` gives one DataFrame row per
input row (a record without usable inputs, such as a rejected request, gets
one row numbered -1 without features, so it still counts as a request), keyed
by the stream offset and the row's index, so re-reading a record can never
count it twice. :func:`problem` says why a record cannot be monitored (the job
dead-letters those); feature values are numbers, and a rejected request
(``error`` set) whose inputs are not numbers keeps no rows.

>>> rec = {"endpoint_id": "ep", "request_id": "r1", "timestamp": "2026-01-01T10:00:00Z",
...        "inputs": [[1.0, 2.0], [3.0, 4.0]], "outputs": [0, 1], "latency_ms": 3.5}
>>> flatten([("7", rec)], {"ep": ["a", "b"]})["ep"][["_offset", "_row", "a", "b", "output"]]
  _offset  _row    a    b  output
0       7     0  1.0  2.0       0
1       7     1  3.0  4.0       1
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

META_COLUMNS = [
    "_offset",
    "_row",
    "endpoint_id",
    "function",
    "model_name",
    "model_version",
    "request_id",
    "timestamp",
    "latency_ms",
    "error",
    "output",
    "trace_id",
]


_NUMBER = (int, float)


def _values(row: Any) -> Iterable[Any]:
    if isinstance(row, Mapping):
        return row.values()
    return row if isinstance(row, list | tuple) else [row]


def _numeric(row: Any) -> bool:
    return all(v is None or isinstance(v, _NUMBER) for v in _values(row))


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    return "a string" if isinstance(value, str) else f"a {type(value).__name__}"


def problem(record: Mapping[str, Any]) -> str | None:
    """Why ``record`` cannot be monitored, or None.

    >>> problem({"endpoint_id": "ep", "inputs": [[1, 2.5]], "outputs": [0]}) is None
    True
    >>> problem({"endpoint_id": "ep", "inputs": [[1, 2]], "outputs": {"y": 1}})
    "'outputs' is an object, not a list"
    >>> problem({"endpoint_id": "ep", "inputs": [["a", 2]]})
    "feature value 'a' is not a number"
    """
    endpoint = record.get("endpoint_id")
    if not isinstance(endpoint, str) or not endpoint:
        return f"'endpoint_id' is {_kind(endpoint)}, not a non-empty string"
    for name in ("inputs", "outputs"):
        value = record.get(name)
        if value is not None and not isinstance(value, list):
            return f"{name!r} is {_kind(value)}, not a list"
    if record.get("error") is None:
        for row in record.get("inputs") or []:
            for value in _values(row):
                if value is not None and not isinstance(value, _NUMBER):
                    return f"feature value {str(value)[:40]!r} is not a number"
    return None


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else str(value)


def _feature(value: Any) -> Any:
    return float(value) if isinstance(value, bool) else _scalar(value)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, default=str)


def _row_features(row: Any, names: Sequence[str]) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return {str(k): _feature(v) for k, v in row.items()}
    if isinstance(row, list | tuple):
        if len(names) == len(row):
            return {name: _feature(v) for name, v in zip(names, row, strict=True)}
        return {f"f{i}": _feature(v) for i, v in enumerate(row)}
    return {"f0": _feature(row)}


def flatten(
    records: Iterable[tuple[str, Mapping[str, Any]]],
    feature_names: Mapping[str, Sequence[str]],
) -> dict[str, pd.DataFrame]:
    """Group ``(offset, record)`` pairs by endpoint into one row per input row."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for offset, record in records:
        endpoint = record.get("endpoint_id")
        if not isinstance(endpoint, str) or not endpoint:
            logger.warning("skipping a record without endpoint_id at offset %s", offset)
            continue
        inputs = record.get("inputs")
        outputs = record.get("outputs")
        outputs = outputs if isinstance(outputs, list) else []
        rejected = record.get("error") is not None and not all(map(_numeric, inputs or []))
        if not isinstance(inputs, list) or not inputs or rejected:
            inputs = [None]  # no usable rows (e.g. a rejected request): keep it as row -1
        names = feature_names.get(endpoint, ())
        for index, row in enumerate(inputs):
            if row is None:
                index = -1
            flat = {
                "_offset": str(offset),
                "_row": index,
                "endpoint_id": endpoint,
                "function": _text(record.get("function")),
                "model_name": _text(record.get("model_name")),
                "model_version": _text(record.get("model_version")),
                "request_id": _text(record.get("request_id")),
                "timestamp": _text(record.get("timestamp")),
                "latency_ms": record.get("latency_ms"),
                "error": _text(record.get("error")),
                "output": _scalar(outputs[index]) if 0 <= index < len(outputs) else None,
                "trace_id": _text(record.get("trace_id")),  # set when tracing was on
            }
            if row is not None:
                flat.update(_row_features(row, names))
            rows[endpoint].append(flat)
    frames = {}
    for endpoint, items in rows.items():
        df = pd.DataFrame(items)
        stamps = pd.to_datetime(df["timestamp"], utc=True, errors="coerce", format="ISO8601")
        if stamps.isna().any():
            logger.warning(
                "%d records of endpoint %s have no valid timestamp; using the time read",
                int(stamps.isna().sum()),
                endpoint,
            )
            stamps = stamps.fillna(pd.Timestamp.now(tz="UTC"))
        df["timestamp"] = stamps
        df["latency_ms"] = pd.to_numeric(df["latency_ms"], errors="coerce")
        for column in df.select_dtypes(include="object").columns:
            kinds = {isinstance(v, _NUMBER) for v in df[column] if v is not None}
            if len(kinds) > 1:  # numbers and text: one Parquet column holds one type
                df[column] = [_text(v) for v in df[column]]
        frames[endpoint] = df
    return frames


def feature_columns(df: pd.DataFrame) -> list[str]:
    """The feature columns of a flattened frame."""
    return [c for c in df.columns if c not in META_COLUMNS]
