"""Step 8: the lineage of one prediction, read back from the stores.

prediction -> model version (run database artifact) -> training run (its
parameters and inputs) -> feature vector (feature-store catalog) and the
data set the run trained on.
"""

from __future__ import annotations

from typing import Any

from rich.tree import Tree

import servegraph as sg
import servegraph.featurestore as fstore

from . import check
from .training import MODEL_KEY


def lineage(project: str, answer: dict[str, Any]) -> Tree:
    """Follow ``answer`` (a model response) back to its data; raise if a link is missing."""
    db = sg.get_run_db()
    version = answer.get("model_version")
    check(bool(version), f"the prediction names no model version: {answer}")
    model = db.read_artifact(MODEL_KEY, tag=str(version), project=project)
    spec = model["spec"]
    root = Tree(f"prediction [bold]{answer['id']}[/]: fraud={answer['fraud']}")
    model_node = root.add(
        f"model [bold]{model['uri']}[/] (sha256 {model['metadata']['hash'][:12]}, "
        f"auc {spec['metrics'].get('auc', float('nan')):.3f})"
    )

    run = db.read_run(spec["producer"]["uid"], project)
    params = run["spec"]["parameters"]
    trigger = (
        f", started by drift of endpoint {params['endpoint_id']}" if "endpoint_id" in params else ""
    )
    run_node = model_node.add(
        f"training run [bold]{run['metadata']['name']}[/] {run['metadata']['uid']} "
        f"({run['status']['state']}{trigger})"
    )

    check("vector" in params, f"run {run['metadata']['uid']} records no feature vector")
    vector = fstore.get_feature_vector(params["vector"])
    vector_node = run_node.add(f"feature vector [bold]{vector.uri}[/]")
    for part in vector.parts():
        vector_node.add(f"feature set {part.fset.uri}: {', '.join(part.names)}")

    inputs = run["spec"]["inputs"]
    check("dataset" in inputs, f"run {run['metadata']['uid']} records no input data set")
    data_node = run_node.add(f"data set [bold]{inputs['dataset']}[/] (labelled transactions)")
    training_sets = [a for a in run["status"]["artifacts"] if a["kind"] == "dataset"]
    check(bool(training_sets), f"run {run['metadata']['uid']} logged no training set")
    for artifact in training_sets:
        data_node.add(
            f"training set {artifact['uri']}: {artifact['spec']['length']} rows x "
            f"{len(artifact['spec']['header'])} columns"
        )
    return root
