"""A lineage tree drawn left (data) to right (prediction), shared nodes drawn once."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from servegraph.ui.lineage_svg import tree_to_svg
from tests.graph.test_svg import box

NS = {"s": "http://www.w3.org/2000/svg"}


def node(kind: str, id_: str, *children: dict) -> dict:
    return {
        "kind": kind,
        "id": id_,
        "label": f"{kind} {id_}",
        "details": {},
        "children": list(children),
    }


def test_tree_is_drawn_from_the_data_to_the_prediction() -> None:
    data = node("dataset", "d1")
    tree = node(
        "prediction",
        "req-1",
        node("model", "m:v2", node("run", "r2", node("feature-vector", "fv"), data), data),
    )
    drawn = tree_to_svg(tree)
    assert [(n["kind"], n["ref"]) for n in drawn["nodes"]] == [
        ("prediction", "req-1"),
        ("model", "m:v2"),
        ("run", "r2"),
        ("feature-vector", "fv"),
        ("dataset", "d1"),
    ]
    root = ET.fromstring(drawn["svg"])
    x = {g.attrib["data-step"]: box(g)[0] for g in root.iterfind(".//s:g[@data-step]", NS)}
    assert x["feature-vector fv"] < x["run r2"] < x["model m:v2"] < x["prediction req-1"]
    assert len(root.findall(".//s:path[@class='edge edge-solid']", NS)) == 5
