"""API: projects and runs (paginated, filtered), one run with its children, its log."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from servegraph.errors import BadRequestError
from servegraph.ui.base import MAX_PAGE, Param, Route, blocking, int_param, reply, state

FINAL_STATES = ("completed", "error", "aborted")


def run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """The fields of a run the list shows."""
    meta, spec, status = run.get("metadata", {}), run.get("spec", {}), run.get("status", {})
    results = {
        k: v for k, v in (status.get("results") or {}).items() if isinstance(v, int | float | str)
    }
    return {
        "project": meta.get("project", ""),
        "uid": meta.get("uid", ""),
        "iteration": meta.get("iteration", 0),
        "name": meta.get("name", ""),
        "labels": meta.get("labels") or {},
        "state": status.get("state", ""),
        "start_time": status.get("start_time"),
        "last_update": status.get("last_update"),
        "kind": (spec.get("runtime") or {}).get("kind", ""),
        "hyper": bool(spec.get("hyperparams")),
        "results": dict(list(results.items())[:6]),
        "error": status.get("error"),
    }


def parse_labels(values: list[str]) -> dict[str, str]:
    labels = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadRequestError(f"The 'label' parameter must be key=value. Got {item!r}.")
        labels[key] = value
    return labels


async def list_projects(request: web.Request) -> web.Response:
    st = state(request)

    def read() -> list[dict[str, Any]]:
        counts = st.db.run_counts()
        docs = {p.get("metadata", {}).get("name") or "": p for p in st.db.list_projects()}
        names = sorted(set(counts) | {n for n in docs if n})
        return [
            {
                "name": name,
                "description": (docs.get(name, {}).get("spec") or {}).get("description", ""),
                "runs": sum(counts.get(name, {}).values()),
                "states": counts.get(name, {}),
            }
            for name in names
        ]

    return reply(await blocking(read))


async def list_runs(request: web.Request) -> web.Response:
    st = state(request)
    q = request.query
    offset = int_param(request, "offset", 0)
    limit = int_param(request, "limit", 50, MAX_PAGE)
    labels = parse_labels(q.getall("label", []))
    total, runs = await blocking(
        lambda: st.db.page_runs(
            project=q.get("project") or None,
            name=q.get("name") or None,
            state=q.get("state") or None,
            labels=labels,
            offset=offset,
            limit=limit,
        )
    )
    return reply(
        {"total": total, "offset": offset, "limit": limit, "runs": [run_summary(r) for r in runs]}
    )


def _best(run: dict[str, Any]) -> int | None:
    status = run.get("status", {})
    best = status.get("best_iteration") or (status.get("results") or {}).get("best_iteration")
    return int(best) if best else None


async def get_run(request: web.Request) -> web.Response:
    st = state(request)
    project, uid = request.match_info["project"], request.match_info["uid"]
    iteration = int_param(request, "iter", 0)

    def read() -> dict[str, Any]:
        run = st.db.read_run(uid, project, iteration)
        children = st.db.list_iterations(uid, project) if iteration == 0 else []
        parent = st.db.read_run(uid, project, 0) if iteration else None
        return {
            "run": run,
            "summary": run_summary(run),
            "children": [
                {**run_summary(c), "parameters": c.get("spec", {}).get("parameters") or {}}
                for c in children
            ],
            "best_iteration": _best(parent or run),
            "parent": run_summary(parent) if parent else None,
        }

    return reply(await blocking(read))


async def get_log(request: web.Request) -> web.Response:
    st = state(request)
    project, uid = request.match_info["project"], request.match_info["uid"]
    offset = int_param(request, "offset", 0)

    def read() -> dict[str, Any]:
        run = st.db.read_run(uid, project)
        body = st.db.get_log(uid, project)
        return {
            "offset": len(body),
            "text": body[offset:].decode(errors="replace"),
            "state": run.get("status", {}).get("state", ""),
            "final": run.get("status", {}).get("state") in FINAL_STATES,
        }

    return reply(await blocking(read))


_RUN = (Param("project", "path"), Param("uid", "path"))

ROUTES = [
    Route("GET", "/api/projects", list_projects, "Projects with their run counts by state"),
    Route(
        "GET",
        "/api/runs",
        list_runs,
        "One page of runs, newest first (children of hyper-parameter runs left out)",
        (
            Param("project"),
            Param("state", description="created, running, completed, error or aborted"),
            Param("name", description="part of the run name"),
            Param("label", description="key=value, repeatable"),
            Param("offset", type="integer"),
            Param("limit", type="integer", description=f"at most {MAX_PAGE}"),
        ),
    ),
    Route(
        "GET",
        "/api/runs/{project}/{uid}",
        get_run,
        "A run record, its hyper-parameter children and best iteration (or its parent)",
        (*_RUN, Param("iter", type="integer", description="a child's iteration")),
    ),
    Route(
        "GET",
        "/api/runs/{project}/{uid}/log",
        get_log,
        "The run's log from a byte offset, and whether the run has finished",
        (*_RUN, Param("offset", type="integer")),
    ),
]
