"""API: feature sets and vectors (schema, entities, aggregations, statistics, last
ingestion) and schedules (last and next run)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from servegraph.errors import FeatureSetNotFoundError, ServegraphError
from servegraph.featurestore.catalog import Catalog
from servegraph.functions.schedules import next_runs
from servegraph.ui.api_catalog import draw_graph
from servegraph.ui.base import Param, Route, blocking, reply, state

_STAT_KEYS = ("count", "mean", "std", "min", "max", "unique", "top")


def _stats(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The summary numbers of each feature and its histogram's counts."""
    out = {}
    for feature, s in (stats or {}).items():
        hist = s.get("hist")
        counts = hist[0] if isinstance(hist, list) and hist and isinstance(hist[0], list) else []
        out[feature] = {**{k: s.get(k) for k in _STAT_KEYS if k in s}, "counts": counts}
    return out


def feature_set_view(entry: dict[str, Any]) -> dict[str, Any]:
    body = entry["body"]
    spec = body.get("spec") or {}
    graph = spec.get("graph")
    return {
        "project": entry["project"],
        "name": entry["name"],
        "tag": entry["tag"],
        "uri": f"store://feature-sets/{entry['project']}/{entry['name']}:{entry['tag']}",
        "last_saved": entry["updated"],
        "description": spec.get("description", ""),
        "entities": spec.get("entities") or [],
        "features": spec.get("features") or [],
        "timestamp_key": spec.get("timestamp_key"),
        "aggregations": spec.get("aggregations") or [],
        "targets": spec.get("targets") or [],
        "stats": _stats((body.get("status") or {}).get("stats") or {}),
        "graph": draw_graph(graph) if graph else None,
    }


def feature_vector_view(entry: dict[str, Any]) -> dict[str, Any]:
    spec = entry["body"].get("spec") or {}
    return {
        "project": entry["project"],
        "name": entry["name"],
        "tag": entry["tag"],
        "uri": f"store://feature-vectors/{entry['project']}/{entry['name']}:{entry['tag']}",
        "last_saved": entry["updated"],
        "description": spec.get("description", ""),
        "features": spec.get("features") or [],
        "label_feature": spec.get("label_feature"),
    }


async def list_feature_store(request: web.Request) -> web.Response:
    st = state(request)
    project = request.query.get("project") or None

    def read() -> dict[str, Any]:
        catalog = Catalog(st.dbpath)
        return {
            "feature_sets": [
                {k: v for k, v in feature_set_view(e).items() if k not in ("stats", "graph")}
                for e in catalog.entries("feature-sets", project)
            ],
            "feature_vectors": [
                feature_vector_view(e) for e in catalog.entries("feature-vectors", project)
            ],
        }

    return reply(await blocking(read))


async def get_feature_set(request: web.Request) -> web.Response:
    st = state(request)
    project, name = request.match_info["project"], request.match_info["name"]
    tag = request.query.get("tag") or "latest"

    def read() -> dict[str, Any]:
        for entry in Catalog(st.dbpath).entries("feature-sets", project):
            if entry["name"] == name and entry["tag"] == tag:
                return feature_set_view(entry)
        raise FeatureSetNotFoundError(f"store://feature-sets/{project}/{name}:{tag} not found")

    return reply(await blocking(read))


def _next(cron: str) -> str | None:
    try:
        return next_runs(cron)[0]
    except ServegraphError:
        return None


async def list_schedules(request: web.Request) -> web.Response:
    st = state(request)
    project = request.query.get("project") or None
    schedules = await blocking(lambda: st.db.list_schedules(project))
    return reply([{**s, "next_run": _next(s["cron"])} for s in schedules])


ROUTES = [
    Route(
        "GET",
        "/api/feature-store",
        list_feature_store,
        "Feature sets (schema, entities, aggregations, last ingestion) and feature vectors",
        (Param("project"),),
    ),
    Route(
        "GET",
        "/api/feature-sets/{project}/{name}",
        get_feature_set,
        "One feature set with its statistics and its ingestion graph drawn",
        (Param("project", "path"), Param("name", "path"), Param("tag")),
    ),
    Route(
        "GET",
        "/api/schedules",
        list_schedules,
        "Schedules of functions, workflows and monitoring jobs: cron, last and next run",
        (Param("project"),),
    ),
]
