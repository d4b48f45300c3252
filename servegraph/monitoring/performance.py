"""Model performance per window, from the predictions joined with their labels.

Classifiers (integer, boolean or text outputs; or probabilities in [0, 1]
against 0/1 labels) get ``accuracy``, ``precision``, ``recall`` (binary: of
label 1; otherwise macro-averaged) and ``auc`` (binary, when the outputs are
scores); regressors get ``mae`` and ``rmse``. Results are stored beside the
drift results (``monitoring_performance``) and read with :func:`list_performance`.

>>> compute_performance([1, 0, 1, 1], [1, 0, 0, 1])
{'accuracy': 0.75, 'precision': 1.0, 'recall': 0.6666666666666666}
>>> compute_performance([1.0, 2.0], [1.5, 2.0])
{'mae': 0.25, 'rmse': 0.3535533905932738}
>>> compute_performance([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])["auc"]
0.75
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from servegraph.monitoring import db
from servegraph.monitoring.results import iso

LOWER_IS_BETTER = frozenset({"mae", "rmse"})

performance_table = sa.Table(
    "monitoring_performance",
    db.metadata,
    sa.Column("endpoint_id", sa.String(255), primary_key=True),
    sa.Column("window_start", sa.String(32), primary_key=True),
    sa.Column("model_version", sa.String(255), nullable=False, default=""),
    sa.Column("labelled", sa.Integer, nullable=False),
    sa.Column("metrics", sa.Text, nullable=False),
    sa.Column("updated", sa.String(32), nullable=False),
)


def _is_label_like(values: Sequence[Any]) -> bool:
    return all(
        isinstance(v, bool | str | np.integer | np.bool_)
        or (isinstance(v, int | float | np.floating) and float(v).is_integer())
        for v in values
    )


def _auc(y: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> float | None:
    """Area under the ROC curve by ranks (ties averaged); None without both classes."""
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if not pos or not neg:
        return None
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def compute_performance(labels: Sequence[Any], outputs: Sequence[Any]) -> dict[str, float]:
    """Performance metrics of ``outputs`` against ``labels`` (see the module docstring)."""
    if not len(labels):
        return {}
    binary_labels = set(map(_scalar, labels)) <= {0, 1}
    scores = [_scalar(o) for o in outputs]
    probabilities = (
        binary_labels
        and all(isinstance(s, float | int) and 0 <= s <= 1 for s in scores)
        and not _is_label_like(scores)
    )
    if probabilities:
        y = np.array([int(_scalar(v)) for v in labels])
        s = np.array(scores, dtype=float)
        metrics = _classification(list(y), [int(v >= 0.5) for v in s])
        auc = _auc(y, s)
        if auc is not None:
            metrics["auc"] = auc
        return metrics
    if _is_label_like(list(map(_scalar, labels))) and _is_label_like(scores):
        return _classification([_scalar(v) for v in labels], scores)
    y_true = np.array([float(_scalar(v)) for v in labels])
    y_pred = np.array([float(v) for v in scores])
    err = y_pred - y_true
    return {"mae": float(np.abs(err).mean()), "rmse": float(math.sqrt((err**2).mean()))}


def _scalar(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value.item() if isinstance(value, np.generic) else value


def _classification(y: list[Any], pred: list[Any]) -> dict[str, float]:
    y_a, p_a = np.array(y, dtype=object), np.array(pred, dtype=object)
    metrics = {"accuracy": float((y_a == p_a).mean())}
    classes = sorted(set(y) | set(pred), key=str)
    targets = [1] if set(classes) <= {0, 1} else classes
    precisions, recalls = [], []
    for c in targets:
        tp = float(((p_a == c) & (y_a == c)).sum())
        predicted, actual = float((p_a == c).sum()), float((y_a == c).sum())
        precisions.append(tp / predicted if predicted else 0.0)
        recalls.append(tp / actual if actual else 0.0)
    metrics["precision"] = float(np.mean(precisions))
    metrics["recall"] = float(np.mean(recalls))
    return metrics


def window_performance(data: pd.DataFrame) -> tuple[dict[str, float], int]:
    """(metrics, labelled rows) of a window's rows that carry a ``label``."""
    if "label" not in data.columns or not len(data):
        return {}, 0
    rows = data[(data["_row"] >= 0) & data["label"].notna() & data["output"].notna()]
    if not len(rows):
        return {}, 0
    return compute_performance(list(rows["label"]), list(rows["output"])), len(rows)


def save_performance(
    endpoint_id: str,
    window_start: pd.Timestamp,
    metrics: dict[str, float],
    labelled: int,
    model_version: str = "",
    dbpath: str | None = None,
) -> None:
    """Replace the performance of one endpoint window."""
    start = iso(window_start)
    key = (performance_table.c.endpoint_id == endpoint_id) & (
        performance_table.c.window_start == start
    )
    with db.begin(dbpath) as conn:
        conn.execute(performance_table.delete().where(key))
        conn.execute(
            performance_table.insert().values(
                endpoint_id=endpoint_id,
                window_start=start,
                model_version=model_version,
                labelled=labelled,
                metrics=json.dumps(metrics),
                updated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
        )


def list_performance(
    endpoint_id: str | None = None, dbpath: str | None = None
) -> list[dict[str, Any]]:
    """Stored performance rows (oldest window first): endpoint, window, version, metrics."""
    query = sa.select(performance_table).order_by(
        performance_table.c.window_start, performance_table.c.endpoint_id
    )
    if endpoint_id is not None:
        query = query.where(performance_table.c.endpoint_id == endpoint_id)
    with db.begin(dbpath) as conn:
        rows = [r._asdict() for r in conn.execute(query)]
    for row in rows:
        row["metrics"] = json.loads(row["metrics"])
    return rows


def degraded(metric: str, value: float, threshold: float) -> bool:
    """Whether ``value`` of ``metric`` is worse than ``threshold`` (lower is worse, but
    for error metrics such as mae and rmse)."""
    return value > threshold if metric in LOWER_IS_BETTER else value < threshold


__all__ = [
    "compute_performance",
    "degraded",
    "list_performance",
    "save_performance",
    "window_performance",
]
