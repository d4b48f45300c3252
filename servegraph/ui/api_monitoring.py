"""API: model endpoints with traffic, latency, errors and drift per window, the latest
histograms (reference vs current), alerts and the retraining history."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from aiohttp import web

from servegraph.functions.registry import model_events
from servegraph.monitoring import db as monitoring_db
from servegraph.monitoring.alerts.state import episodes_table
from servegraph.monitoring.datastore import WindowStore
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.monitoring.metrics import ReferenceBins
from servegraph.monitoring.performance import list_performance
from servegraph.monitoring.results import ResultStore
from servegraph.monitoring.rollout import list_rollouts
from servegraph.monitoring.settings import MonitorSettings
from servegraph.ui.api_runs import run_summary
from servegraph.ui.base import Param, Route, UIState, blocking, reply, state

MAX_WINDOWS = 500


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def model_key(model_uri: str) -> str | None:
    """The artifact key of a ``store://models/<project>/<key>[:tag]`` URI."""
    if not model_uri.startswith("store://"):
        return None
    return model_uri.rstrip("/").split("/")[-1].split(":")[0].split("@")[0] or None


def endpoint_summary(ep: ModelEndpoint, last: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": ep.id,
        "project": ep.project,
        "function": ep.function,
        "model_name": ep.model_name,
        "model_version": ep.model_version,
        "model_uri": ep.model_uri,
        "feature_names": ep.feature_names,
        "created": ep.created,
        "updated": ep.updated,
        "last_window": last,
    }


def _window_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    start, end = pd.Timestamp(row["window_start"]), pd.Timestamp(row["window_end"])
    minutes = max((end - start).total_seconds() / 60, 1e-9)
    return {
        "window_start": row["window_start"],
        "window_end": row["window_end"],
        "requests": int(row["requests"]),
        "rate_per_min": int(row["requests"]) / minutes,
        "errors": int(row["errors"]),
        "error_rate": _num(row["error_rate"]),
        "latency_p99": _num(row["latency_p99"]),
        "drift_value": _num(row["drift_value"]),
        "status": row["status"],
    }


async def list_endpoints(request: web.Request) -> web.Response:
    st = state(request)
    project = request.query.get("project") or None

    def read() -> list[dict[str, Any]]:
        windows = ResultStore(st.dbpath).windows()
        last, trend = {}, {}
        for eid, group in windows.groupby("endpoint_id", sort=False):
            last[str(eid)] = _window_row(group.iloc[-1].to_dict())
            trend[str(eid)] = [_num(v) for v in group["drift_value"].tail(24)]
        endpoints = EndpointRegistry(st.dbpath).list(project)
        detected = {
            p: MonitorSettings.load(project=p or None).thresholds.detected
            for p in {ep.project for ep in endpoints}
        }
        return [
            {
                **endpoint_summary(ep, last.get(ep.id)),
                "drift_trend": trend.get(ep.id, []),
                "detected": detected[ep.project],
            }
            for ep in endpoints
        ]

    return reply(await blocking(read))


def _load_window(st: UIState, endpoint_id: str, start: pd.Timestamp) -> pd.DataFrame:
    for root in st.data_roots():
        df = WindowStore(root).load(endpoint_id, start)
        if len(df):
            return df
    return pd.DataFrame()


def _p50(st: UIState, endpoint_id: str, start: str) -> float | None:
    df = _load_window(st, endpoint_id, pd.Timestamp(start))
    if not len(df) or "latency_ms" not in df:
        return None
    latency = df.drop_duplicates("_offset")["latency_ms"].dropna()
    return float(np.quantile(latency, 0.5)) if len(latency) else None


def endpoint_detail(st: UIState, endpoint_id: str) -> dict[str, Any]:
    ep = EndpointRegistry(st.dbpath).get(endpoint_id)
    results = ResultStore(st.dbpath)
    window_rows = results.windows(endpoint_id).tail(MAX_WINDOWS).to_dict("records")
    windows = [_window_row(r) for r in window_rows]
    for w in windows[-48:]:  # the median needs the logged data; the recent windows only
        w["latency_p50"] = _p50(st, endpoint_id, w["window_start"])
    features = results.features(endpoint_id)
    if len(windows):
        features = features[features["window_start"] >= windows[0]["window_start"]]
    drift: dict[str, list[dict[str, Any]]] = {}
    for row in features.to_dict("records"):
        drift.setdefault(str(row["feature"]), []).append(
            {
                "window_start": row["window_start"],
                "value": _num(row["value"]),
                "status": row["status"],
            }
        )
    latest_start = features["window_start"].max() if len(features) else None
    latest = [
        {
            "feature": r["feature"],
            "value": _num(r["value"]),
            "status": r["status"],
            "count": int(r["count"]),
        }
        for r in features[features["window_start"] == latest_start].to_dict("records")
    ]
    thresholds = MonitorSettings.load(project=ep.project or None).thresholds
    with monitoring_db.begin(st.dbpath) as conn:
        episodes = conn.execute(
            sa.select(episodes_table).where(episodes_table.c.endpoint_id == endpoint_id)
        ).mappings()
        alerts = [
            {
                "rule": e["rule"],
                "active": bool(e["active"]),
                "last_fired": e["last_fired"],
                "last_window": e["last_window"],
            }
            for e in episodes
        ]
    retrain = [
        run_summary(r)
        for r in st.db.list_runs(project=ep.project or None, last=500)
        if (r.get("spec", {}).get("parameters") or {}).get("endpoint_id") == endpoint_id
    ]
    key = model_key(ep.model_uri)
    models = st.db.list_artifacts(project=ep.project or None, key=key) if key else []
    events = model_events(ep.project, key, db=st.db) if key else []
    rollouts = [
        r for r in list_rollouts(ep.project or None, st.dbpath) if r["endpoint_id"] == endpoint_id
    ]
    return {
        "endpoint": endpoint_summary(ep, windows[-1] if windows else None),
        "thresholds": {
            "metric": thresholds.metric,
            "possible": thresholds.possible,
            "detected": thresholds.detected,
        },
        "windows": windows,
        "drift": drift,
        "latest": {"window_start": latest_start, "features": latest},
        "alerts": alerts,
        "retraining": retrain,
        "rollouts": rollouts,
        "model_events": events,
        "performance": [
            {
                "window_start": p["window_start"],
                "model_version": p["model_version"],
                "labelled": p["labelled"],
                "metrics": {k: _num(v) for k, v in p["metrics"].items()},
            }
            for p in list_performance(endpoint_id, st.dbpath)[-MAX_WINDOWS:]
        ],
        "model_versions": [
            {
                "hash": m.get("metadata", {}).get("hash", ""),
                "tags": m.get("metadata", {}).get("tags") or [],
                "updated": m.get("metadata", {}).get("updated"),
                "producer": (m.get("spec", {}).get("producer") or {}).get("uid"),
                "metrics": m.get("spec", {}).get("metrics") or {},
            }
            for m in models
        ],
    }


async def get_endpoint(request: web.Request) -> web.Response:
    st = state(request)
    endpoint_id = request.match_info["endpoint_id"]
    return reply(await blocking(lambda: endpoint_detail(st, endpoint_id)))


def _bin_labels(bins: ReferenceBins) -> list[str]:
    if bins.edges is not None:
        e = [f"{x:.3g}" for x in bins.edges]
        return [f"< {e[0]}", *(f"{a} to {b}" for a, b in itertools.pairwise(e)), f"> {e[-1]}"]
    assert bins.categories is not None
    return [*bins.categories, "other"]


def histograms(st: UIState, endpoint_id: str, window: str | None) -> dict[str, Any]:
    ep = EndpointRegistry(st.dbpath).get(endpoint_id)
    windows = ResultStore(st.dbpath).windows(endpoint_id)
    if window is None and len(windows):
        window = str(windows["window_start"].iloc[-1])
    data = _load_window(st, endpoint_id, pd.Timestamp(window)) if window else pd.DataFrame()
    rows = data[data["_row"] >= 0] if len(data) else data
    out = []
    for feature in ep.feature_names:
        stats = ep.reference_stats.get(feature) or {}
        if not stats.get("count"):
            continue
        bins = ReferenceBins.from_stats(stats)
        ref = bins.reference_counts
        cur = np.zeros_like(ref)
        if feature in rows:
            values = rows[feature].dropna()
            if bins.numeric:
                values = pd.to_numeric(values, errors="coerce").dropna()
            cur = bins.counts(values.to_numpy())
        out.append(
            {
                "feature": feature,
                "bins": _bin_labels(bins),
                "reference": (ref / max(ref.sum(), 1)).tolist(),
                "current": (cur / max(cur.sum(), 1)).tolist(),
                "current_count": int(cur.sum()),
            }
        )
    return {"window_start": window, "has_data": bool(len(rows)), "features": out}


async def get_histograms(request: web.Request) -> web.Response:
    st = state(request)
    endpoint_id = request.match_info["endpoint_id"]
    window = request.query.get("window") or None
    return reply(await blocking(lambda: histograms(st, endpoint_id, window)))


async def get_live(request: web.Request) -> web.Response:
    live = state(request).live
    endpoint_id = request.match_info["endpoint_id"]
    return reply(live.stats(endpoint_id) if live is not None else {"enabled": False})


_EP = Param("endpoint_id", "path")

ROUTES = [
    Route(
        "GET",
        "/api/endpoints",
        list_endpoints,
        "Model endpoints with their latest window",
        (Param("project"),),
    ),
    Route(
        "GET",
        "/api/endpoints/{endpoint_id}",
        get_endpoint,
        "An endpoint: traffic, latency, errors and drift per window, thresholds, alerts, "
        "retraining runs and model versions",
        (_EP,),
    ),
    Route(
        "GET",
        "/api/endpoints/{endpoint_id}/live",
        get_live,
        "Live traffic from the tracking stream: requests, rate, p50/p99 latency and error "
        "rate of the last minutes (enabled: false when the dashboard does not follow it)",
        (_EP,),
    ),
    Route(
        "GET",
        "/api/endpoints/{endpoint_id}/histograms",
        get_histograms,
        "Reference vs current histograms of each feature in one window (default the latest)",
        (_EP, Param("window", description="window start, ISO-8601")),
    ),
]
