"""The SVG drawing of a graph: every step, its shape, error paths, child functions."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from servegraph.graph import FlowStep, RootFlowStep, RouterStep
from servegraph.graph.svg import to_svg

NS = {"s": "http://www.w3.org/2000/svg"}


def sample() -> RootFlowStep:
    graph = RootFlowStep()
    router = graph.to(name="prep", handler="h").to("*", name="router")
    assert isinstance(router, RouterStep)
    router.add_route("m1", class_name="M")
    router.add_route("m2", class_name="M")
    router.to(">>", "q", path="redis://h/s").to(
        name="post", handler="h", function="child"
    ).respond()
    graph["prep"].error_handler("catch", handler="h")
    return graph


def nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.attrib["data-step"]: g for g in root.iterfind(".//s:g[@data-step]", NS)}


def box(g: ET.Element) -> tuple[float, float]:
    shape = next(iter(g.iterfind("s:*", NS)))
    for child in g:
        if child.tag.endswith(("rect", "ellipse", "polygon", "path")):
            shape = child
            break
    if shape.tag.endswith("rect"):
        return float(shape.attrib["x"]), float(shape.attrib["y"])
    if shape.tag.endswith("ellipse"):
        return float(shape.attrib["cx"]), float(shape.attrib["cy"])
    if shape.tag.endswith("polygon"):
        x, y = shape.attrib["points"].split()[0].split(",")
        return float(x), float(y)
    x, y = shape.attrib["d"][1:].split()[0].split(",")
    return float(x), float(y)


def test_every_step_is_drawn_with_its_shape() -> None:
    svg = to_svg(sample())
    drawn = nodes(svg)
    assert set(drawn) == {"start", "prep", "router", "m1", "m2", "q", "post", "catch"}
    classes = {name: g.attrib["class"].split() for name, g in drawn.items()}
    assert "shape-doubleoctagon" in classes["router"]
    assert "shape-cds" in classes["q"]
    assert "error-handler" in classes["catch"]
    assert "responder" in classes["post"]
    assert "fn: child" in "".join(drawn["post"].itertext())
    root = ET.fromstring(svg)
    styles = [p.attrib["class"] for p in root.iterfind(".//s:path[@class]", NS)]
    assert styles.count("edge edge-route") == 2 and styles.count("edge edge-error") == 1


def test_steps_flow_left_to_right_and_top_to_bottom() -> None:
    drawn = nodes(to_svg(sample()))
    x = {name: box(g)[0] for name, g in drawn.items()}
    assert x["start"] < x["prep"] < x["router"] < x["q"] < x["post"]
    assert x["router"] < x["m1"] and x["m1"] == x["m2"]
    vertical = nodes(to_svg(sample(), rankdir="TB"))
    y = {name: box(g)[1] for name, g in vertical.items()}
    assert y["start"] < y["prep"] < y["router"] < y["q"] < y["post"]


def test_nested_flow_is_framed() -> None:
    graph = RootFlowStep()
    graph.to(name="a", handler="h")
    sub = graph.add_step(FlowStep(), name="sub", after="a")
    assert isinstance(sub, FlowStep)
    sub.to(name="x", handler="h").to(name="y", handler="h")
    svg = to_svg(graph)
    root = ET.fromstring(svg)
    frames = [g.attrib["data-flow"] for g in root.iterfind(".//s:g[@data-flow]", NS)]
    assert frames == ["sub"]
    assert {"a", "x", "y"} <= set(nodes(svg))


def test_a_router_graph_alone() -> None:
    router = RouterStep()
    router.add_route("v1", class_name="M")
    assert set(nodes(to_svg(router))) == {"router", "v1"}
