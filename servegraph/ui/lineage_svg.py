"""Draw a lineage tree (``{"kind", "id", "label", "details", "children"}`` nodes, the
shape ``sg.lineage`` returns) as SVG: the data on the left, the prediction on the right."""

from __future__ import annotations

from typing import Any

from servegraph.graph.plot import Cluster, Edge, Layout, Node
from servegraph.graph.svg import layout_to_svg

SHAPES = {
    "prediction": "ellipse",
    "endpoint": "ellipse",
    "model": "box",
    "run": "box",
    "feature-vector": "cds",
    "feature-set": "cds",
    "dataset": "cds",
    "training-set": "cds",
}


def tree_to_svg(tree: dict[str, Any]) -> dict[str, Any]:
    """The SVG of the tree, and one row per node (kind, id, label) for links."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    rows: list[dict[str, str]] = []
    seen: dict[tuple[str, str], str] = {}

    def visit(node: dict[str, Any]) -> str:
        key = (str(node.get("kind", "")), str(node.get("id", "")))
        if key in seen:  # a data set two runs read is drawn once
            return seen[key]
        node_id = f"n{len(nodes) + 1}"
        seen[key] = node_id
        label = str(node.get("label") or node.get("id") or node.get("kind"))
        nodes.append(Node(node_id, label, SHAPES.get(key[0], "box")))
        rows.append({"id": node_id, "kind": key[0], "ref": key[1], "label": label})
        for child in node.get("children") or []:
            edges.append(Edge(visit(child), node_id))  # data flows from the child
        return node_id

    visit(tree)
    picture = Layout(Cluster("root", str(tree.get("label", "lineage")), nodes=nodes), edges)
    return {"svg": layout_to_svg(picture), "nodes": rows}
