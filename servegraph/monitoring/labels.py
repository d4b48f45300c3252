"""Ground truth by request id: the labels stream, the label and prediction tables.

Labels arrive later than predictions. Send them, by the ``request_id`` the
prediction carried (the ``id`` of the V2 response, or your ``x-request-id``
header), to the **labels stream** of the tracking stream (its URL plus
``-labels``)::

    send_labels({"req-1": 1, "req-2": [0, 1]})   # one label, or one per input row

Each monitoring run reads the labels stream (its own consumer group), stores
the labels (``monitoring_labels``: request id, row, label), and marks the
windows holding those requests for scoring again, so performance is computed
whenever labels come in. It also keeps an index of predictions
(``monitoring_predictions``: request id -> endpoint, model version, time,
window), which lineage reads to follow a prediction back to its model.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from servegraph.monitoring import db
from servegraph.monitoring.results import iso
from servegraph.streams import Stream, get_stream

LABELS_SUFFIX = "-labels"
GROUP = "monitoring-labels"

labels_table = sa.Table(
    "monitoring_labels",
    db.metadata,
    sa.Column("request_id", sa.String(255), primary_key=True),
    sa.Column("row", sa.Integer, primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("received", sa.String(32), nullable=False),
)
predictions_table = sa.Table(
    "monitoring_predictions",
    db.metadata,
    sa.Column("request_id", sa.String(255), primary_key=True),
    sa.Column("endpoint_id", sa.String(255), nullable=False),
    sa.Column("model_name", sa.String(255), nullable=False, default=""),
    sa.Column("model_version", sa.String(255), nullable=False, default=""),
    sa.Column("timestamp", sa.String(40), nullable=False, default=""),
    sa.Column("window_start", sa.String(32), nullable=False),
)


def labels_stream_url(tracking_stream: str) -> str:
    """The labels stream of a tracking stream URL."""
    return tracking_stream.rstrip("/") + LABELS_SUFFIX


def label_records(labels: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Stream records for ``{request_id: label or [label per row]}``.

    >>> label_records({"r1": 1, "r2": [0, 1]})
    [{'request_id': 'r1', 'label': 1}, {'request_id': 'r2', 'labels': [0, 1]}]
    """
    records = []
    for request_id, label in labels.items():
        key = "labels" if isinstance(label, list) else "label"
        records.append({"request_id": str(request_id), key: label})
    return records


def send_labels(labels: Mapping[str, Any], stream_path: str | None = None) -> int:
    """Push labels (``{request_id: label}``) to the labels stream; returns how many."""
    from servegraph.monitoring.tracking import default_stream_url

    url = stream_path or labels_stream_url(default_stream_url())

    async def push() -> None:
        stream = get_stream(url)
        try:
            await stream.push(label_records(labels))
        finally:
            await stream.close()

    asyncio.run(push())
    return len(labels)


def _rows(record: Any) -> list[tuple[str, int, Any]]:
    if not isinstance(record, dict) or not isinstance(record.get("request_id"), str):
        return []
    request_id = record["request_id"]
    if isinstance(record.get("labels"), list):
        return [(request_id, i, v) for i, v in enumerate(record["labels"])]
    if "label" in record:
        return [(request_id, 0, record["label"])]
    return []


async def ingest_labels(stream: Stream, dbpath: str | None = None, batch: int = 1000) -> set[str]:
    """Store every new label of ``stream``; return the request ids that got labels."""
    seen: set[str] = set()
    while records := await stream.read(GROUP, "job", count=batch):
        rows = [row for r in records for row in _rows(r.data)]
        store_labels(rows, dbpath)
        seen.update(r[0] for r in rows)
        await stream.ack(GROUP, [r.offset for r in records])
    return seen


def store_labels(rows: Iterable[tuple[str, int, Any]], dbpath: str | None = None) -> None:
    """Insert or replace ``(request_id, row, label)`` rows."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = list(rows)
    if not rows:
        return
    with db.begin(dbpath) as conn:
        for request_id, row, label in rows:
            key = (labels_table.c.request_id == request_id) & (labels_table.c.row == row)
            conn.execute(labels_table.delete().where(key))
            conn.execute(
                labels_table.insert().values(
                    request_id=request_id, row=row, label=json.dumps(label), received=now
                )
            )


def read_labels(request_ids: Iterable[str], dbpath: str | None = None) -> pd.DataFrame:
    """Labels of these requests: columns ``request_id``, ``_row``, ``label``."""
    ids = sorted(set(request_ids))
    out: list[dict[str, Any]] = []
    with db.begin(dbpath) as conn:
        for start in range(0, len(ids), 500):
            query = sa.select(labels_table).where(labels_table.c.request_id.in_(ids[start:][:500]))
            for r in conn.execute(query):
                out.append(
                    {"request_id": r.request_id, "_row": r.row, "label": json.loads(r.label)}
                )
    return pd.DataFrame(out, columns=["request_id", "_row", "label"])


def index_predictions(
    df: pd.DataFrame, window_start: pd.Timestamp, dbpath: str | None = None
) -> None:
    """Remember which endpoint, version and window each request of ``df`` belongs to."""
    if not len(df) or "request_id" not in df.columns:
        return
    firsts = df.drop_duplicates("request_id")
    firsts = firsts[firsts["request_id"].astype(bool)]
    start = iso(window_start)
    with db.begin(dbpath) as conn:
        ids = [str(i) for i in firsts["request_id"]]
        conn.execute(predictions_table.delete().where(predictions_table.c.request_id.in_(ids)))
        if ids:
            conn.execute(
                predictions_table.insert(),
                [
                    {
                        "request_id": str(r.request_id),
                        "endpoint_id": str(r.endpoint_id),
                        "model_name": str(r.model_name or ""),
                        "model_version": str(r.model_version or ""),
                        "timestamp": str(r.timestamp),
                        "window_start": start,
                    }
                    for r in firsts.itertuples()
                ],
            )


def prediction(request_id: str, dbpath: str | None = None) -> dict[str, Any] | None:
    """The indexed prediction ``request_id`` (endpoint, model version, time), or None."""
    with db.begin(dbpath) as conn:
        row = conn.execute(
            sa.select(predictions_table).where(predictions_table.c.request_id == request_id)
        ).first()
    return dict(row._asdict()) if row is not None else None


def windows_of(request_ids: Iterable[str], dbpath: str | None = None) -> set[tuple[str, str]]:
    """The (endpoint id, window key) pairs holding these requests."""
    ids = sorted(set(request_ids))
    found: set[tuple[str, str]] = set()
    with db.begin(dbpath) as conn:
        for start in range(0, len(ids), 500):
            query = sa.select(predictions_table.c.endpoint_id, predictions_table.c.window_start)
            query = query.where(predictions_table.c.request_id.in_(ids[start:][:500]))
            found.update((r.endpoint_id, r.window_start) for r in conn.execute(query))
    return found


def with_labels(data: pd.DataFrame, dbpath: str | None = None) -> pd.DataFrame:
    """``data`` (window rows) with a ``label`` column joined by request id and row."""
    if not len(data) or "request_id" not in data.columns:
        return data.assign(label=None)
    labels = read_labels(data["request_id"].astype(str), dbpath)
    merged = data.merge(labels, on=["request_id", "_row"], how="left")
    return merged


__all__ = [
    "index_predictions",
    "label_records",
    "labels_stream_url",
    "prediction",
    "read_labels",
    "send_labels",
    "store_labels",
    "windows_of",
    "with_labels",
]
