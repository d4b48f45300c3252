"""Drift results in the database: one row per endpoint window, one per window feature.

Windows the job has stored data for but not yet scored are marked *dirty* in
the same database, so a job killed between storing and scoring finishes the
work on its next run. Saving a window's results replaces earlier results of
that window and clears its mark in one transaction.

>>> store = ResultStore()                                                  # doctest: +SKIP
>>> store.windows("churn.v1")[["window_start", "status", "drift_value"]]   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from servegraph.monitoring import db
from servegraph.monitoring.drift import DriftStatus, FeatureDrift
from servegraph.monitoring.metrics import METRICS

windows_table = sa.Table(
    "monitoring_windows",
    db.metadata,
    sa.Column("endpoint_id", sa.String(255), primary_key=True),
    sa.Column("window_start", sa.String(32), primary_key=True),
    sa.Column("window_end", sa.String(32), nullable=False),
    sa.Column("requests", sa.Integer, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("error_rate", sa.Float, nullable=False),
    sa.Column("latency_p99", sa.Float, nullable=True),
    sa.Column("drift_value", sa.Float, nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("computed_at", sa.String(32), nullable=False),
)

features_table = sa.Table(
    "monitoring_feature_drift",
    db.metadata,
    sa.Column("endpoint_id", sa.String(255), primary_key=True),
    sa.Column("window_start", sa.String(32), primary_key=True),
    sa.Column("feature", sa.String(255), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    *(sa.Column(name, sa.Float, nullable=True) for name in METRICS),
)

dirty_table = sa.Table(
    "monitoring_dirty_windows",
    db.metadata,
    sa.Column("endpoint_id", sa.String(255), primary_key=True),
    sa.Column("window_start", sa.String(32), primary_key=True),
)


def iso(ts: pd.Timestamp) -> str:
    """A window bound as ISO-8601 UTC text (sorts chronologically)."""
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class WindowResult:
    """Drift and health of one endpoint in one time window."""

    endpoint_id: str
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    requests: int
    rows: int
    errors: int
    latency_p99: float | None
    status: DriftStatus
    drift_value: float | None
    features: list[FeatureDrift] = field(default_factory=list)
    performance: dict[str, float] = field(default_factory=dict)  # stored by .performance

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


class ResultStore:
    """Reads and writes the monitoring result tables of ``dbpath`` (default the run DB)."""

    def __init__(self, dbpath: str | None = None) -> None:
        self.dbpath = dbpath

    def mark_dirty(self, keys: Iterable[tuple[str, pd.Timestamp]]) -> None:
        """Remember windows that got new data."""
        rows = {(e, iso(s)) for e, s in keys}
        with db.begin(self.dbpath) as conn:
            for endpoint, start in rows:
                exists = conn.execute(
                    sa.select(dirty_table.c.endpoint_id).where(
                        dirty_table.c.endpoint_id == endpoint, dirty_table.c.window_start == start
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        dirty_table.insert().values(endpoint_id=endpoint, window_start=start)
                    )

    def dirty(self) -> list[tuple[str, pd.Timestamp]]:
        """Windows waiting to be scored, oldest first."""
        query = sa.select(dirty_table).order_by(dirty_table.c.window_start)
        with db.begin(self.dbpath) as conn:
            return [(r.endpoint_id, pd.Timestamp(r.window_start)) for r in conn.execute(query)]

    def save(self, result: WindowResult) -> None:
        """Replace the window's results and clear its dirty mark, atomically."""
        start = iso(result.window_start)
        key_w = (windows_table.c.endpoint_id == result.endpoint_id) & (
            windows_table.c.window_start == start
        )
        key_f = (features_table.c.endpoint_id == result.endpoint_id) & (
            features_table.c.window_start == start
        )
        key_d = (dirty_table.c.endpoint_id == result.endpoint_id) & (
            dirty_table.c.window_start == start
        )
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with db.begin(self.dbpath) as conn:
            conn.execute(windows_table.delete().where(key_w))
            conn.execute(features_table.delete().where(key_f))
            conn.execute(
                windows_table.insert().values(
                    endpoint_id=result.endpoint_id,
                    window_start=start,
                    window_end=iso(result.window_end),
                    requests=result.requests,
                    rows=result.rows,
                    errors=result.errors,
                    error_rate=result.error_rate,
                    latency_p99=result.latency_p99,
                    drift_value=result.drift_value,
                    status=result.status.value,
                    computed_at=now,
                )
            )
            for f in result.features:
                conn.execute(
                    features_table.insert().values(
                        endpoint_id=result.endpoint_id,
                        window_start=start,
                        feature=f.feature,
                        count=f.count,
                        value=f.value,
                        status=f.status.value,
                        **{name: f.metrics.get(name) for name in METRICS},
                    )
                )
            conn.execute(dirty_table.delete().where(key_d))

    def windows(self, endpoint_id: str | None = None) -> pd.DataFrame:
        """Window results (all endpoints, or one), oldest first."""
        query = sa.select(windows_table).order_by(
            windows_table.c.endpoint_id, windows_table.c.window_start
        )
        if endpoint_id is not None:
            query = query.where(windows_table.c.endpoint_id == endpoint_id)
        with db.begin(self.dbpath) as conn:
            return pd.DataFrame(
                conn.execute(query).mappings().all(), columns=windows_table.c.keys()
            )

    def features(self, endpoint_id: str | None = None) -> pd.DataFrame:
        """Per-feature results (all endpoints, or one), oldest window first."""
        query = sa.select(features_table).order_by(
            features_table.c.endpoint_id, features_table.c.window_start, features_table.c.feature
        )
        if endpoint_id is not None:
            query = query.where(features_table.c.endpoint_id == endpoint_id)
        with db.begin(self.dbpath) as conn:
            return pd.DataFrame(
                conn.execute(query).mappings().all(), columns=features_table.c.keys()
            )

    def export_parquet(self, endpoint_id: str, directory: Path) -> Path:
        """Write the endpoint's per-feature results to ``<directory>/<endpoint>.parquet``."""
        from urllib.parse import quote

        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{quote(endpoint_id, safe='')}.parquet"
        self.features(endpoint_id).to_parquet(path, index=False)
        return path
