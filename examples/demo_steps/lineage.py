"""Step 8: the lineage of one prediction, read back from the stores by ``sg.lineage``.

prediction -> model version (run database artifact) -> training run (its
parameters and inputs) -> feature vector (feature-store catalog) and the
data set the run trained on.
"""

from __future__ import annotations

from typing import Any

from rich.tree import Tree

import servegraph as sg
from servegraph.monitoring.lineage import render

from . import check
from .training import MODEL_KEY


def lineage(project: str, answer: dict[str, Any]) -> Tree:
    """Follow ``answer`` (a model response) back to its data; raise if a link is missing."""
    version = answer.get("model_version")
    check(bool(version), f"the prediction names no model version: {answer}")
    model = sg.lineage(f"store://models/{project}/{MODEL_KEY}:{version}")
    kinds: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        kinds.add(node["kind"])
        for child in node["children"]:
            walk(child)

    walk(model)
    missing = {"model", "run", "feature-vector", "feature-set", "dataset"} - kinds
    check(not missing, f"the lineage of {model['id']} lacks {sorted(missing)}")
    root = Tree(f"prediction [bold]{answer['id']}[/]: fraud={answer['fraud']}")
    root.add(render(model))
    return root
