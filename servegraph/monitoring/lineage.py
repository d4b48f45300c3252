"""Lineage: from a prediction (or a model version) back to the data it came from.

    tree = sg.lineage("req-42")                       # a prediction's request id
    tree = sg.lineage("store://models/shop/fraud:v2")  # or a model version

prediction -> model version (its tags, metrics and history) -> training run
(parameters, state) -> feature vector -> feature sets, and the run's input data
sets and logged training sets. Each node is ``{"kind", "id", "label",
"details", "children"}``; :func:`render` draws it with rich. A prediction is
found in the monitoring job's prediction index (:mod:`.labels`), so the job
must have read it from the tracking stream.
"""

from __future__ import annotations

from typing import Any

from servegraph.errors import NotFoundInStoreError, ServegraphError
from servegraph.monitoring.endpoints import EndpointRegistry
from servegraph.monitoring.labels import prediction
from servegraph.storage.uri import is_store_uri

Node = dict[str, Any]


def _node(kind: str, id_: str, label: str, **details: Any) -> Node:
    return {"kind": kind, "id": id_, "label": label, "details": details, "children": []}


def lineage(uri_or_prediction_id: str, dbpath: str | None = None) -> Node:
    """The lineage tree of a prediction (request id) or of a ``store://models/...`` version."""
    if is_store_uri(uri_or_prediction_id):
        return model_lineage(uri_or_prediction_id, dbpath)
    found = prediction(uri_or_prediction_id, dbpath)
    if found is None:
        raise NotFoundInStoreError(
            f"no prediction {uri_or_prediction_id!r} in the monitoring index (the monitoring "
            "job indexes predictions it reads from the tracking stream)"
        )
    endpoint = EndpointRegistry(dbpath).get(found["endpoint_id"])
    node = _node(
        "prediction",
        found["request_id"],
        f"prediction {found['request_id']} by {found['model_name']}:{found['model_version']}",
        endpoint_id=found["endpoint_id"],
        function=endpoint.function,
        timestamp=found["timestamp"],
        model_version=found["model_version"],
    )
    if is_store_uri(endpoint.model_uri):
        node["children"].append(model_lineage(endpoint.model_uri, dbpath))
    else:
        node["children"].append(
            _node("model", endpoint.model_uri, f"model file {endpoint.model_uri or '(none)'}")
        )
    return node


def model_lineage(uri: str, dbpath: str | None = None) -> Node:
    """The lineage tree of a model version: its training run and that run's data."""
    from servegraph.functions.registry import get_model, version_summary
    from servegraph.storage.rundb import get_run_db

    db = get_run_db(dbpath)
    version = version_summary(get_model(uri, db))
    node = _node(
        "model",
        version["uri"],
        _model_label(uri, version),
        uid=version["uid"],
        tags=version["tags"],
        metrics=version["metrics"],
        events=version["events"],
    )
    if version["run"]:
        node["children"].append(_run_node(db, version["run"], version["project"]))
    return node


def _model_label(uri: str, version: dict[str, Any]) -> str:
    metrics = ", ".join(
        f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
        for k, v in list(version["metrics"].items())[:4]
    )
    tags = ", ".join(version["tags"]) or "-"
    return (
        f"model {uri} (uid {version['uid'][:12]}; tags {tags}{'; ' + metrics if metrics else ''})"
    )


def _run_node(db: Any, uid: str, project: str) -> Node:
    try:
        run = db.read_run(uid, project)
    except NotFoundInStoreError:
        return _node("run", uid, f"training run {uid} (not in the run database)")
    meta, spec, status = run["metadata"], run["spec"], run.get("status", {})
    params = dict(spec.get("parameters") or {})
    node = _node(
        "run",
        uid,
        f"training run {meta.get('name', '')} {uid} ({status.get('state', '')}"
        + (
            f", started by drift of endpoint {params['endpoint_id']})"
            if "endpoint_id" in params
            else ")"
        ),
        parameters=params,
        state=status.get("state", ""),
    )
    vector = params.get("vector") or params.get("feature_vector")
    if isinstance(vector, str) and vector:
        node["children"].append(_vector_node(vector))
    for key, url in (spec.get("inputs") or {}).items():
        node["children"].append(_node("dataset", str(url), f"input {key}: {url}"))
    for artifact in status.get("artifacts") or []:
        if artifact.get("kind") == "dataset":
            a_spec = artifact.get("spec", {})
            node["children"].append(
                _node(
                    "dataset",
                    str(artifact.get("uri", "")),
                    f"training set {artifact.get('uri', '')}: {a_spec.get('length', '?')} rows",
                )
            )
    return node


def _vector_node(name: str) -> Node:
    try:
        from servegraph.featurestore import get_feature_vector

        vector = get_feature_vector(name)
    except ServegraphError as exc:
        return _node("feature-vector", name, f"feature vector {name} ({exc})")
    node = _node("feature-vector", vector.uri, f"feature vector {vector.uri}")
    for part in vector.parts():
        node["children"].append(
            _node(
                "feature-set",
                part.fset.uri,
                f"feature set {part.fset.uri}: {', '.join(part.names)}",
            )
        )
    return node


def render(node: Node) -> Any:
    """A rich ``Tree`` of a lineage node."""
    from rich.tree import Tree

    tree = Tree(node["label"])

    def add(parent: Any, children: list[Node]) -> None:
        for child in children:
            add(parent.add(child["label"]), child["children"])

    add(tree, node["children"])
    return tree


__all__ = ["lineage", "model_lineage", "render"]
