"""Draw a graph: Mermaid text, Graphviz DOT text, an HTML page, or an image.

The graph is first laid out as plain nodes, edges and clusters (nested
flows); the Mermaid and DOT writers only format that. Task steps are boxes,
routers hexagons with their routes hanging off dotted edges, queues
cylinders, the responder has a double border, error paths are dashed::

    print(graph.plot())                       # Mermaid, paste into Markdown
    dot_text = graph.plot(format="dot")       # Graphviz source
    graph.plot("graph.html")                  # an SVG drawing, no script, works offline
    graph.plot("graph.svg")                   # needs the `dot` program
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep
from servegraph.graph.flow import FlowStep
from servegraph.graph.router import RouterStep

RANKDIRS = ("LR", "RL", "TB", "BT")
TEXT_FORMATS = {"mermaid": "mermaid", "mmd": "mermaid", "dot": "dot", "gv": "dot", "html": "html"}
IMAGE_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "gif")

# Graphviz shape -> Mermaid node brackets
_MERMAID_SHAPES: dict[str, tuple[str, str]] = {
    "box": ("[", "]"),
    "rect": ("[", "]"),
    "rectangle": ("[", "]"),
    "folder": ("[", "]"),
    "ellipse": ("([", "])"),
    "oval": ("([", "])"),
    "circle": ("((", "))"),
    "doublecircle": ("(((", ")))"),
    "cds": ("[(", ")]"),
    "cylinder": ("[(", ")]"),
    "hexagon": ("{{", "}}"),
    "octagon": ("{{", "}}"),
    "doubleoctagon": ("{{", "}}"),
    "diamond": ("{", "}"),
}


@dataclass
class Node:
    """One drawn box."""

    id: str
    label: str
    shape: str
    responder: bool = False
    error_handler: bool = False
    function: str | None = None  # the child function the step runs in


@dataclass
class Edge:
    """One arrow; ``style`` is ``"solid"``, ``"error"`` (dashed) or ``"route"`` (dotted)."""

    src: str
    dst: str
    label: str | None = None
    style: str = "solid"


@dataclass
class Cluster:
    """A nested flow: its own nodes and clusters, drawn in a frame."""

    id: str
    label: str
    nodes: list[Node] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)


@dataclass
class Layout:
    """The whole picture: a top-level cluster and every edge."""

    root: Cluster
    edges: list[Edge] = field(default_factory=list)


class _Builder:
    def __init__(self) -> None:
        self.count = 0
        self.edges: list[Edge] = []

    def new_id(self) -> str:
        self.count += 1
        return f"n{self.count}"

    def add_step(self, step: BaseStep, cluster: Cluster, error: bool) -> tuple[str, list[str]]:
        """Draw ``step`` into ``cluster``; return its entry id and exit ids."""
        if isinstance(step, FlowStep):
            sub = Cluster(self.new_id(), step.name or "flow")
            cluster.clusters.append(sub)
            entry = Node(self.new_id(), step.name or "flow", "circle")
            sub.nodes.append(entry)
            exits = self.add_flow(step, sub, entry.id)
            return entry.id, exits or [entry.id]
        node = Node(
            self.new_id(),
            step.name or step.kind,
            step.get_shape(),
            step.responder,
            error,
            getattr(step, "function", None) or None,
        )
        cluster.nodes.append(node)
        if isinstance(step, RouterStep):
            for key, route in step.routes.items():
                route_node = Node(self.new_id(), key, route.get_shape(), route.responder)
                cluster.nodes.append(route_node)
                self.edges.append(Edge(node.id, route_node.id, style="route"))
        return node.id, [node.id]

    def add_flow(self, flow: FlowStep, cluster: Cluster, entry: str) -> list[str]:
        """Draw the steps of ``flow``; return the ids of its last steps."""
        handlers = flow.error_handlers()
        ids: dict[str, tuple[str, list[str]]] = {}
        for name, step in flow.steps.items():
            ids[name] = self.add_step(step, cluster, name in handlers)
        for step in flow.start_steps():
            assert step.name is not None
            self.edges.append(Edge(entry, ids[step.name][0]))
        for name, step in flow.steps.items():
            for inlet in step.after:
                if inlet in ids:
                    for src in ids[inlet][1]:
                        self.edges.append(Edge(src, ids[name][0]))
            if step.on_error in ids:
                for src in ids[name][1]:
                    self.edges.append(Edge(src, ids[step.on_error][0], "error", "error"))
        if flow.on_error in ids:
            self.edges.append(Edge(entry, ids[flow.on_error][0], "on error", "error"))
        has_outlet = {inlet for step in flow.steps.values() for inlet in step.after}
        return [
            exit_id
            for name, (_, exits) in ids.items()
            if name not in has_outlet and name not in handlers
            for exit_id in exits
        ]


def layout(step: BaseStep) -> Layout:
    """Lay ``step`` out as nodes, edges and clusters (a flow gets a ``start`` node)."""
    builder = _Builder()
    root = Cluster("root", step.name or "graph")
    if isinstance(step, FlowStep):
        start = Node(builder.new_id(), "start", "circle")
        root.nodes.append(start)
        builder.add_flow(step, root, start.id)
    else:
        builder.add_step(step, root, error=False)
    return Layout(root, builder.edges)


def _mermaid_text(label: str) -> str:
    return '"' + html.escape(label, quote=False).replace('"', "#quot;") + '"'


def to_mermaid(step: BaseStep, rankdir: str = "LR") -> str:
    """Mermaid ``flowchart`` text for the graph."""
    picture = layout(step)
    lines = [f"flowchart {_check_rankdir(rankdir)}"]

    def emit(cluster: Cluster, indent: str) -> None:
        for node in cluster.nodes:
            left, right = _MERMAID_SHAPES.get(node.shape, ("[", "]"))
            lines.append(f"{indent}{node.id}{left}{_mermaid_text(node.label)}{right}")
            if node.responder:
                lines.append(f"{indent}class {node.id} responder")
            if node.error_handler:
                lines.append(f"{indent}class {node.id} errorhandler")
        for sub in cluster.clusters:
            lines.append(f"{indent}subgraph {sub.id} [{_mermaid_text(sub.label)}]")
            emit(sub, indent + "    ")
            lines.append(f"{indent}end")

    emit(picture.root, "    ")
    arrows = {"solid": "-->", "error": "-.->", "route": "-.-"}
    for edge in picture.edges:
        label = f"|{_mermaid_text(edge.label)}|" if edge.label else ""
        lines.append(f"    {edge.src} {arrows[edge.style]}{label} {edge.dst}")
    lines.append("    classDef responder stroke-width:3px")
    lines.append("    classDef errorhandler stroke-dasharray:4 2")
    return "\n".join(lines) + "\n"


def _dot_text(label: str) -> str:
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(step: BaseStep, rankdir: str = "LR") -> str:
    """Graphviz DOT text for the graph."""
    picture = layout(step)
    lines = ["digraph servegraph {", f"    rankdir={_check_rankdir(rankdir)};"]

    def emit(cluster: Cluster, indent: str) -> None:
        for node in cluster.nodes:
            attrs = [f"label={_dot_text(node.label)}", f"shape={_dot_text(node.shape)}"]
            if node.responder:
                attrs.append("peripheries=2")
            if node.error_handler:
                attrs.append('style="dashed"')
            lines.append(f"{indent}{node.id} [{', '.join(attrs)}];")
        for sub in cluster.clusters:
            lines.append(f"{indent}subgraph cluster_{sub.id} {{")
            lines.append(f"{indent}    label={_dot_text(sub.label)};")
            emit(sub, indent + "    ")
            lines.append(f"{indent}}}")

    emit(picture.root, "    ")
    styles = {"solid": "", "error": 'style="dashed", color="red"', "route": 'style="dotted"'}
    for edge in picture.edges:
        attrs = [styles[edge.style]] if styles[edge.style] else []
        if edge.label:
            attrs.append(f"label={_dot_text(edge.label)}")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"    {edge.src} -> {edge.dst}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_html(step: BaseStep, rankdir: str = "LR") -> str:
    """A standalone HTML page: the graph drawn as inline SVG (nothing loaded from the
    network), with its Mermaid text below for pasting into Markdown."""
    from servegraph.graph.svg import to_svg

    title = html.escape(step.name or "servegraph graph")
    body = html.escape(to_mermaid(step, rankdir))
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        "<style>body{font-family:system-ui,sans-serif;margin:24px;color:#1f2933}"
        "svg{max-width:100%;height:auto}pre{background:#f4f6f8;padding:12px}</style>\n"
        "</head>\n<body>\n"
        f"<h1>{title}</h1>\n{to_svg(step, rankdir)}\n"
        f'<details><summary>Mermaid text</summary>\n<pre class="mermaid-source">\n{body}</pre>\n'
        "</details>\n</body>\n</html>\n"
    )


def _check_rankdir(rankdir: str) -> str:
    if rankdir not in RANKDIRS:
        raise GraphError(f"plot: 'rankdir' must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    return rankdir


def _pick_format(filename: str | None, format: str | None) -> str:
    if format is None:
        suffix = Path(filename).suffix.lstrip(".").lower() if filename else ""
        if filename and not suffix:
            raise GraphError(f"plot: cannot tell the format of {filename!r}; pass format=")
        format = suffix or "mermaid"
    name = format.lower()
    if name in TEXT_FORMATS:
        return TEXT_FORMATS[name]
    if name in IMAGE_FORMATS:
        return name
    known = ", ".join([*TEXT_FORMATS, *IMAGE_FORMATS])
    raise GraphError(f"plot: unknown format {format!r} (known: {known})")


def render_image(dot_text: str, filename: str, format: str) -> None:
    """Render DOT text to an image file with the Graphviz ``dot`` program."""
    program = shutil.which("dot")
    if program is None:
        raise GraphError(
            f"plot: format {format!r} needs the Graphviz 'dot' program, which is not on PATH; "
            "install graphviz, or use format='dot', 'mermaid' or 'html'"
        )
    try:
        subprocess.run(
            [program, f"-T{format}", "-o", filename],
            input=dot_text.encode(),
            capture_output=True,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode(errors="replace").strip()
        raise GraphError(f"plot: dot failed to render {filename!r}: {message}") from exc


def plot(
    step: BaseStep, filename: str | None = None, format: str | None = None, rankdir: str = "LR"
) -> str:
    """Render ``step``; write ``filename`` if given; return the Mermaid, DOT or HTML text
    (for an image, the DOT text it was rendered from)."""
    kind = _pick_format(filename, format)
    _check_rankdir(rankdir)
    if kind == "mermaid":
        text = to_mermaid(step, rankdir)
    elif kind == "html":
        text = to_html(step, rankdir)
    else:
        text = to_dot(step, rankdir)
    if kind in IMAGE_FORMATS:
        if filename is None:
            raise GraphError(f"plot: format {kind!r} writes an image; pass filename=")
        render_image(text, filename, kind)
    elif filename is not None:
        Path(filename).write_text(text, encoding="utf-8")
    return text
