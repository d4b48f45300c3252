"""API: artifacts and models (versions, tags, producing run, lineage) and functions
(versions, the serving graph drawn as SVG)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from servegraph.errors import BadRequestError, NotFoundInStoreError, ServegraphError
from servegraph.graph.plot import Cluster, Edge, Layout, Node, layout
from servegraph.graph.serialize import graph_from_dict
from servegraph.graph.svg import layout_to_svg
from servegraph.monitoring.lineage import lineage as sg_lineage
from servegraph.ui.base import MAX_PAGE, Param, Route, UIState, blocking, int_param, reply, state
from servegraph.ui.lineage_svg import tree_to_svg


def artifact_summary(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of an artifact version a list shows."""
    meta, spec = body.get("metadata", {}), body.get("spec", {})
    producer = spec.get("producer") or {}
    return {
        "key": meta.get("key", ""),
        "project": meta.get("project", ""),
        "kind": body.get("kind", "artifact"),
        "hash": meta.get("hash", ""),
        "tags": meta.get("tags") or [],
        "updated": meta.get("updated"),
        "uri": body.get("uri", ""),
        "size": spec.get("size"),
        "metrics": spec.get("metrics") or {},
        "framework": spec.get("framework", ""),
        "producer": {k: producer.get(k) for k in ("kind", "name", "uid", "project", "iteration")},
    }


async def list_artifacts(request: web.Request) -> web.Response:
    st = state(request)
    q = request.query
    limit = int_param(request, "limit", 200, MAX_PAGE)
    bodies = await blocking(
        lambda: st.db.list_artifacts(
            project=q.get("project") or None, key=q.get("key") or None, kind=q.get("kind") or None
        )
    )
    return reply({"total": len(bodies), "artifacts": [artifact_summary(b) for b in bodies[:limit]]})


def lineage(st: UIState, body: dict[str, Any]) -> dict[str, Any]:
    """Model endpoints -> this artifact -> its producing run -> the run's inputs."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    links: list[dict[str, str]] = []

    def add(label: str, shape: str, kind: str, ref: str) -> str:
        node = Node(f"n{len(nodes) + 1}", label, shape)
        nodes.append(node)
        links.append({"id": node.id, "label": label, "kind": kind, "ref": ref})
        return node.id

    meta, spec = body.get("metadata", {}), body.get("spec", {})
    project, key = meta.get("project", ""), meta.get("key", "")
    me = add(f"{body.get('kind', 'artifact')}: {key}", "box", "artifact", f"{project}/{key}")
    from servegraph.monitoring.endpoints import EndpointRegistry

    for ep in EndpointRegistry(st.dbpath).list(project or None):
        if ep.model_uri and key and ep.model_uri.split("/")[-1].split(":")[0] == key:
            edges.append(Edge(me, add(f"endpoint: {ep.id}", "ellipse", "endpoint", ep.id)))
    producer = spec.get("producer") or {}
    if producer.get("uid"):
        run_ref = f"{producer.get('project', project)}/{producer['uid']}"
        run_id = add(f"run: {producer.get('name', '')}", "box", "run", run_ref)
        edges.append(Edge(run_id, me))
        try:
            run = st.db.read_run(producer["uid"], producer.get("project", project))
        except NotFoundInStoreError:
            run = {}
        for name, uri in ((run.get("spec") or {}).get("inputs") or {}).items():
            kind = "feature-vector" if "feature-vectors/" in str(uri) else "dataset"
            edges.append(Edge(add(f"{name}: {uri}", "cds", kind, str(uri)), run_id))
    # inputs on the left, the endpoints that serve the model on the right
    picture = Layout(Cluster("root", key, nodes=nodes), edges)
    return {"svg": layout_to_svg(picture), "nodes": links}


async def get_artifact(request: web.Request) -> web.Response:
    st = state(request)
    project, key = request.match_info["project"], request.match_info["key"]

    def read() -> dict[str, Any]:
        versions = st.db.list_artifacts(project=project, key=key)
        if not versions:
            raise NotFoundInStoreError(f"artifact {key!r} not found in project {project!r}")
        events = [  # (time, order within the version): moves in the same second keep order
            ({**e, "uid": b.get("metadata", {}).get("hash", "")}, i)
            for b in versions
            for i, e in enumerate((b.get("status") or {}).get("events") or [])
        ]
        return {
            "versions": [{**artifact_summary(b), "body": b} for b in versions],
            "lineage": lineage(st, versions[0]),
            "events": [
                e for e, _ in sorted(events, key=lambda p: (str(p[0].get("time", "")), p[1]))
            ][::-1],
        }

    return reply(await blocking(read))


async def get_lineage(request: web.Request) -> web.Response:
    st = state(request)
    ref = request.query.get("id", "").strip()
    if not ref:
        raise BadRequestError("The 'id' parameter must name a request id or a store:// URI.")
    tree = await blocking(lambda: sg_lineage(ref, st.dbpath))
    return reply({"tree": tree, **tree_to_svg(tree)})


def function_summary(body: dict[str, Any]) -> dict[str, Any]:
    meta = body.get("metadata", {})
    graph = (body.get("spec") or {}).get("graph")
    return {
        "name": meta.get("name", ""),
        "project": meta.get("project", ""),
        "kind": body.get("kind", ""),
        "hash": meta.get("hash", ""),
        "tags": meta.get("tags") or [],
        "updated": meta.get("updated"),
        "has_graph": bool(graph),
    }


async def list_functions(request: web.Request) -> web.Response:
    st = state(request)
    project = request.query.get("project") or None
    bodies = await blocking(lambda: st.db.list_functions(project=project))
    return reply([function_summary(b) for b in bodies])


def _labels(cluster: Cluster) -> list[str]:
    out = [n.label for n in cluster.nodes]
    for sub in cluster.clusters:
        out.extend(_labels(sub))
    return out


def step_rows(graph: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """One row per step of a graph's dict form (nested flows and routes included)."""
    rows: list[dict[str, Any]] = []
    children = {**(graph.get("steps") or {}), **(graph.get("routes") or {})}
    for name, step in children.items():
        if not isinstance(step, dict):
            continue
        rows.append(
            {
                "name": f"{prefix}{name}",
                "kind": step.get("kind") or "task",
                "class_name": step.get("class_name") or "",
                "handler": step.get("handler") or "",
                "after": step.get("after") or [],
                "function": step.get("function") or "",
                "path": step.get("path") or "",
                "on_error": step.get("on_error") or "",
            }
        )
        rows.extend(step_rows(step, f"{prefix}{name}."))
    return rows


def draw_graph(graph: dict[str, Any]) -> dict[str, Any]:
    """The graph's SVG, the labels of every drawn step and a row per step (or the error)."""
    try:
        root = graph_from_dict(graph)
        picture = layout(root)
        return {
            "svg": layout_to_svg(picture),
            "steps": _labels(picture.root),
            "details": step_rows(graph),
            "error": None,
        }
    except ServegraphError as exc:
        return {"svg": None, "steps": [], "details": [], "error": str(exc)}


async def get_function(request: web.Request) -> web.Response:
    st = state(request)
    project, name = request.match_info["project"], request.match_info["name"]
    wanted = request.query.get("hash") or None

    def read() -> dict[str, Any]:
        versions = st.db.list_functions(project=project, name=name, all_versions=True)
        if not versions:
            raise NotFoundInStoreError(f"function {name!r} not found in project {project!r}")
        chosen = versions[0]
        if wanted:
            chosen = st.db.get_function(name, project, hash_=wanted)
        graph = (chosen.get("spec") or {}).get("graph")
        return {
            "versions": [function_summary(v) for v in versions],
            "function": chosen,
            "graph": draw_graph(graph) if graph else None,
        }

    return reply(await blocking(read))


ROUTES = [
    Route(
        "GET",
        "/api/artifacts",
        list_artifacts,
        "Artifact versions (models, data sets, files), newest first",
        (
            Param("project"),
            Param("kind", description="model, dataset, artifact, ..."),
            Param("key"),
            Param("limit", type="integer"),
        ),
    ),
    Route(
        "GET",
        "/api/artifacts/{project}/{key}",
        get_artifact,
        "Every version of an artifact with its tags, metrics and producer, and its lineage",
        (Param("project", "path"), Param("key", "path")),
    ),
    Route(
        "GET",
        "/api/lineage",
        get_lineage,
        "The lineage of a prediction (its request id) or a model version (store://models/...): "
        "the tree and its SVG drawing",
        (Param("id", description="a request id or a store://models/ URI"),),
    ),
    Route(
        "GET",
        "/api/functions",
        list_functions,
        "The latest version of each function",
        (Param("project"),),
    ),
    Route(
        "GET",
        "/api/functions/{project}/{name}",
        get_function,
        "A function's versions and one version (latest, or by hash) with its graph drawn as SVG",
        (Param("project", "path"), Param("name", "path"), Param("hash")),
    ),
]
