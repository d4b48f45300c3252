"""Plots: the layout, Mermaid and DOT text, HTML and image files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from servegraph.errors import GraphError
from servegraph.graph import FlowStep, RootFlowStep, RouterStep
from servegraph.graph.plot import Layout, layout, to_dot, to_mermaid

SVG_NS = "http://www.w3.org/2000/svg"


def sample() -> RootFlowStep:
    graph = RootFlowStep()
    router = graph.to(name="prep", handler="h").to("*", name="router")
    assert isinstance(router, RouterStep)
    router.add_route("m1", class_name="M")
    router.add_route("m2:v1", class_name="M")
    router.to(">>", "q", path="redis://h/s").to(name="post", handler="h").respond()
    graph["prep"].error_handler("catch", handler="h")
    return graph


def edges_by_label(picture: Layout) -> set[tuple[str, str, str]]:
    labels: dict[str, str] = {}

    def collect(cluster: object) -> None:
        for node in cluster.nodes:  # type: ignore[attr-defined]
            labels[node.id] = node.label
        for sub in cluster.clusters:  # type: ignore[attr-defined]
            collect(sub)

    collect(picture.root)
    return {(labels[e.src], labels[e.dst], e.style) for e in picture.edges}


def test_layout_edges() -> None:
    assert edges_by_label(layout(sample())) == {
        ("start", "prep", "solid"),
        ("prep", "router", "solid"),
        ("router", "m1", "route"),
        ("router", "m2:v1", "route"),
        ("router", "q", "solid"),
        ("q", "post", "solid"),
        ("prep", "catch", "error"),
    }


def test_layout_of_nested_flows_and_graph_error_handler() -> None:
    graph = RootFlowStep()
    graph.to(name="a", handler="h")
    sub = graph.add_step(FlowStep(), name="sub", after="a")
    assert isinstance(sub, FlowStep)
    sub.to(name="x", handler="h").to(name="y", handler="h")
    graph.add_step(name="z", handler="h", after="sub")
    graph.error_handler("catch", handler="h")
    picture = layout(graph)
    assert [c.label for c in picture.root.clusters] == ["sub"]
    assert edges_by_label(picture) == {
        ("start", "a", "solid"),
        ("a", "sub", "solid"),
        ("sub", "x", "solid"),
        ("x", "y", "solid"),
        ("y", "z", "solid"),
        ("start", "catch", "error"),
    }


def test_mermaid_text() -> None:
    text = sample().plot()
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert '    n1(("start"))' in lines
    assert '    n2["prep"]' in lines
    assert '    n3{{"router"}}' in lines
    assert '    n6[("q")]' in lines
    assert "    class n7 responder" in lines
    assert "    class n8 errorhandler" in lines
    assert "    n3 -.- n4" in lines
    assert '    n2 -.->|"error"| n8' in lines
    assert "    n1 --> n2" in lines
    assert text == to_mermaid(sample())


def test_mermaid_escapes_labels_and_draws_subgraphs() -> None:
    graph = RootFlowStep()
    graph.to(name='say "hi" <b>', handler="h")
    sub = graph.add_step(FlowStep(), name="sub")
    assert isinstance(sub, FlowStep)
    sub.to(name="inner", handler="h")
    text = graph.plot(rankdir="TB")
    assert text.startswith("flowchart TB\n")
    assert '["say #quot;hi#quot; &lt;b&gt;"]' in text
    assert '    subgraph n3 ["sub"]' in text and '        n5["inner"]' in text
    assert "    end" in text


def test_dot_text() -> None:
    text = sample().plot(format="dot", rankdir="TB")
    lines = text.splitlines()
    assert lines[:2] == ["digraph servegraph {", "    rankdir=TB;"]
    assert '    n3 [label="router", shape="doubleoctagon"];' in lines
    assert '    n7 [label="post", shape="box", peripheries=2];' in lines
    assert '    n8 [label="catch", shape="box", style="dashed"];' in lines
    assert '    n2 -> n8 [style="dashed", color="red", label="error"];' in lines
    assert '    n3 -> n4 [style="dotted"];' in lines
    assert lines[-1] == "}"
    assert text == to_dot(sample(), "TB")


def test_dot_escapes_labels_and_draws_clusters() -> None:
    graph = RootFlowStep()
    graph.to(name='a"b\\c', handler="h")
    sub = graph.add_step(FlowStep(), name="sub")
    assert isinstance(sub, FlowStep)
    sub.to(name="inner", handler="h")
    text = graph.plot(format="dot")
    assert 'label="a\\"b\\\\c"' in text
    assert "    subgraph cluster_n3 {" in text and '        label="sub";' in text


def test_graph_shape_is_used() -> None:
    graph = RootFlowStep()
    graph.to(name="a", handler="h", graph_shape="diamond")
    assert '{"a"}' in graph.plot()
    assert 'shape="diamond"' in graph.plot(format="dot")


def test_router_root_plot() -> None:
    router = RouterStep(name="router")
    router.add_route("m1", class_name="M")
    assert edges_by_label(layout(router)) == {("router", "m1", "route")}


@pytest.mark.parametrize(
    ("filename", "first_line"),
    [
        ("g.mmd", "flowchart LR"),
        ("g.mermaid", "flowchart LR"),
        ("g.dot", "digraph servegraph {"),
        ("g.gv", "digraph servegraph {"),
    ],
)
def test_text_files(tmp_path: Path, filename: str, first_line: str) -> None:
    path = tmp_path / filename
    text = sample().plot(str(path))
    assert path.read_text() == text and text.splitlines()[0] == first_line


def test_html_file_draws_svg_offline(tmp_path: Path) -> None:
    path = tmp_path / "graph.html"
    page = sample().plot(str(path))
    assert path.read_text() == page
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http://" not in page.replace(SVG_NS, "")
    assert "https://" not in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert '<pre class="mermaid-source">\nflowchart LR\n' in page
    assert "n1((&quot;start&quot;))" in page
    assert sample().plot(format="html") == page


@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def fake_dot(directory: Path, script: str) -> None:
    """Put an executable `dot` stand-in on PATH."""
    directory.mkdir()
    program = directory / "dot"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(program.stat().st_mode | stat.S_IEXEC)


@pytest.mark.usefixtures("no_dot")
def test_image_without_dot_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GraphError, match="format 'png' needs the Graphviz 'dot' program"):
        sample().plot(str(tmp_path / "g.png"))


def test_image_through_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # stands in for Graphviz: records its arguments and copies stdin to the -o file
    fake_dot(tmp_path / "bin", 'echo "$1" > "$3.args"\ncat > "$3"\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    target = tmp_path / "g.svg"
    text = sample().plot(str(target))
    assert target.read_text() == text and text.startswith("digraph")
    assert (tmp_path / "g.svg.args").read_text().strip() == "-Tsvg"


def test_dot_failure_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dot(tmp_path / "bin", 'echo "syntax error" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(GraphError, match=r"dot failed to render .*: syntax error"):
        sample().plot(str(tmp_path / "g.pdf"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "bmpx"}, "plot: unknown format 'bmpx' \\(known: mermaid"),
        ({"filename": "graph"}, "cannot tell the format of 'graph'; pass format="),
        ({"format": "png"}, "format 'png' writes an image; pass filename="),
        ({"rankdir": "XY"}, "'rankdir' must be one of LR, RL, TB, BT, got 'XY'"),
    ],
)
def test_plot_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(GraphError, match=message):
        sample().plot(**kwargs)
