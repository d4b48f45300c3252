"""Draw a graph's layout as a standalone SVG image, with no external program or script.

Nodes are placed in columns by their longest distance from the start (left to
right, or top to bottom with ``rankdir="TB"``); nested flows are framed; task
steps are boxes, routers octagons with their routes hanging off dotted edges,
queues cylinders, the responder has a double border, error handlers a dashed
one and error paths are red dashed arrows. A step that runs in a child
function names it under its label. Each node is a ``<g class="node">`` with
``data-step`` set to its label, so a page or a test can find every step::

    svg_text = to_svg(graph)
    Path("graph.svg").write_text(svg_text)
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass

from servegraph.graph.base import BaseStep
from servegraph.graph.plot import Cluster, Edge, Layout, Node, layout

CHAR_W = 7.2  # average glyph width of the 12px sans-serif labels
NODE_H = 36
GAP_X = 56
GAP_Y = 22
PAD = 14  # frame padding around a nested flow
MARGIN = 20

_STROKE = {"solid": "#5b6b7c", "error": "#d1453b", "route": "#8a96a3"}
_DASH = {"solid": "", "error": "6 4", "route": "2 3"}


@dataclass
class _Box:
    node: Node
    rank: int
    w: float
    h: float
    x: float = 0.0
    y: float = 0.0


def _ranks(nodes: list[Node], edges: list[Edge]) -> dict[str, int]:
    """Longest distance from a node without inlets (error edges do not push ranks)."""
    order = [n.id for n in nodes]
    inlets: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        if e.style != "error" and e.src != e.dst:
            inlets[e.dst].append(e.src)
    rank: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(node_id: str) -> int:
        if node_id in rank:
            return rank[node_id]
        if node_id in visiting:  # a cycle (not a valid graph); cut it here
            return 0
        visiting.add(node_id)
        value = max((visit(src) + 1 for src in inlets.get(node_id, [])), default=0)
        visiting.discard(node_id)
        rank[node_id] = value
        return value

    for node_id in order:
        visit(node_id)
    # an error handler sits one column after the step that fails into it
    for e in edges:
        if e.style == "error" and not inlets.get(e.dst):
            rank[e.dst] = max(rank[e.dst], rank[e.src] + 1)
    return rank


def _all_nodes(cluster: Cluster) -> list[Node]:
    nodes = list(cluster.nodes)
    for sub in cluster.clusters:
        nodes.extend(_all_nodes(sub))
    return nodes


def _size(node: Node) -> tuple[float, float]:
    text = max(len(node.label), len(f"fn: {node.function}") if node.function else 0)
    if node.shape in ("circle", "doublecircle"):
        d = max(40.0, text * CHAR_W + 16)
        return d, min(d, 40.0)
    width = max(64.0, text * CHAR_W + 28)
    height = NODE_H + (12 if node.function else 0)
    return width, height


def _place(boxes: dict[str, _Box], edges: list[Edge], vertical: bool) -> None:
    columns: dict[int, list[_Box]] = defaultdict(list)
    for box in boxes.values():
        columns[box.rank].append(box)
    inlets: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        inlets[e.dst].append(e.src)
    offset = float(MARGIN)
    slot: dict[str, float] = {}
    for rank in sorted(columns):
        column = columns[rank]
        # keep a node near the ones feeding it (barycenter of the inlets' slots)
        column.sort(
            key=lambda b: (
                sum(slot[s] for s in inlets[b.node.id] if s in slot)
                / max(1, len([s for s in inlets[b.node.id] if s in slot]))
                if any(s in slot for s in inlets[b.node.id])
                else float("inf")
            )
        )
        across = float(MARGIN + PAD)
        thickness = max((b.h if vertical else b.w) for b in column)
        for index, box in enumerate(column):
            slot[box.node.id] = index
            if vertical:
                box.x, box.y = across, offset + (thickness - box.h) / 2
                across += box.w + GAP_X / 2
            else:
                box.x, box.y = offset + (thickness - box.w) / 2, across
                across += box.h + GAP_Y
        offset += thickness + (GAP_Y * 2 if vertical else GAP_X)


def _node_svg(box: _Box) -> str:
    n, x, y, w, h = box.node, box.x, box.y, box.w, box.h
    classes = ["node", f"shape-{html.escape(n.shape)}"]
    if n.responder:
        classes.append("responder")
    if n.error_handler:
        classes.append("error-handler")
    dash = ' stroke-dasharray="5 3"' if n.error_handler else ""
    style = f'fill="#ffffff" stroke="#3d6fb6" stroke-width="1.5"{dash}'
    if n.error_handler:
        style = f'fill="#fff4f2" stroke="#d1453b" stroke-width="1.5"{dash}'
    elif n.shape in ("cds", "cylinder"):
        style = 'fill="#f3f0ff" stroke="#6c4fc4" stroke-width="1.5"'
    elif n.shape in ("doubleoctagon", "octagon", "hexagon"):
        style = 'fill="#eef7f0" stroke="#2f8a4c" stroke-width="1.5"'
    elif n.shape in ("circle", "doublecircle"):
        style = 'fill="#f4f6f8" stroke="#5b6b7c" stroke-width="1.5"'
    parts = [f'<g class="{" ".join(classes)}" data-step="{html.escape(n.label)}">']
    parts.append(f"<title>{html.escape(n.label)} ({html.escape(n.shape)})</title>")
    if n.shape in ("circle", "doublecircle"):
        parts.append(
            f'<ellipse cx="{x + w / 2:.1f}" cy="{y + h / 2:.1f}" rx="{w / 2:.1f}" '
            f'ry="{h / 2:.1f}" {style}/>'
        )
    elif n.shape in ("doubleoctagon", "octagon", "hexagon"):
        c = min(10.0, h / 3)
        pts = [
            (x + c, y),
            (x + w - c, y),
            (x + w, y + c),
            (x + w, y + h - c),
            (x + w - c, y + h),
            (x + c, y + h),
            (x, y + h - c),
            (x, y + c),
        ]
        parts.append(
            f'<polygon points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in pts)}" {style}/>'
        )
    elif n.shape in ("cds", "cylinder"):
        r = 5.0
        parts.append(
            f'<path d="M{x:.1f},{y + r:.1f} a{w / 2:.1f},{r} 0 0 1 {w:.1f},0 v{h - 2 * r:.1f} '
            f'a{w / 2:.1f},{r} 0 0 1 {-w:.1f},0 z" {style}/>'
            f'<path d="M{x:.1f},{y + r:.1f} a{w / 2:.1f},{r} 0 0 0 {w:.1f},0" fill="none" '
            'stroke="#6c4fc4" stroke-width="1.2"/>'
        )
    else:
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" {style}/>'
        )
    if n.responder:
        parts.append(
            f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="{w + 6:.1f}" height="{h + 6:.1f}" '
            'rx="8" fill="none" stroke="#3d6fb6" stroke-width="1"/>'
        )
    text_y = y + h / 2 + 4 - (6 if n.function else 0)
    parts.append(
        f'<text x="{x + w / 2:.1f}" y="{text_y:.1f}" text-anchor="middle" '
        f'font-size="12" fill="#1f2933">{html.escape(n.label)}</text>'
    )
    if n.function:
        parts.append(
            f'<text class="child-function" x="{x + w / 2:.1f}" y="{text_y + 14:.1f}" '
            f'text-anchor="middle" font-size="10" fill="#6c4fc4">'
            f"fn: {html.escape(n.function)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _edge_svg(edge: Edge, boxes: dict[str, _Box], vertical: bool) -> str:
    a, b = boxes[edge.src], boxes[edge.dst]
    if vertical:
        x1, y1, x2, y2 = a.x + a.w / 2, a.y + a.h, b.x + b.w / 2, b.y
        mid = (y1 + y2) / 2
        path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}"
    else:
        x1, y1, x2, y2 = a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2
        if x2 <= x1:  # same or earlier column: loop below
            x1, y1 = a.x + a.w / 2, a.y + a.h
            x2, y2 = b.x + b.w / 2, b.y + b.h
            low = max(y1, y2) + 24
            path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{low:.1f} {x2:.1f},{low:.1f} {x2:.1f},{y2:.1f}"
        else:
            mid = (x1 + x2) / 2
            path = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    color = _STROKE[edge.style]
    dash = f' stroke-dasharray="{_DASH[edge.style]}"' if _DASH[edge.style] else ""
    marker = "" if edge.style == "route" else f' marker-end="url(#arrow-{edge.style})"'
    out = (
        f'<path class="edge edge-{edge.style}" d="{path}" fill="none" stroke="{color}" '
        f'stroke-width="1.4"{dash}{marker}/>'
    )
    if edge.label:
        out += (
            f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 4:.1f}" text-anchor="middle" '
            f'font-size="10" fill="{color}">{html.escape(edge.label)}</text>'
        )
    return out


def _frames(cluster: Cluster, boxes: dict[str, _Box], depth: int) -> list[str]:
    out: list[str] = []
    for sub in cluster.clusters:
        members = [boxes[n.id] for n in _all_nodes(sub)]
        if members:
            x0 = min(b.x for b in members) - PAD + depth * 2
            y0 = min(b.y for b in members) - PAD - 8
            x1 = max(b.x + b.w for b in members) + PAD - depth * 2
            y1 = max(b.y + b.h for b in members) + PAD
            out.append(
                f'<g class="cluster" data-flow="{html.escape(sub.label)}">'
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
                'rx="8" fill="#f7f9fb" stroke="#c5ced8" stroke-dasharray="4 3"/>'
                f'<text x="{x0 + 8:.1f}" y="{y0 + 12:.1f}" font-size="10" fill="#5b6b7c">'
                f"{html.escape(sub.label)}</text></g>"
            )
        out.extend(_frames(sub, boxes, depth + 1))
    return out


def layout_to_svg(picture: Layout, rankdir: str = "LR") -> str:
    """SVG text of a laid-out graph (``rankdir`` ``LR`` or ``TB``; ``RL``/``BT`` draw as those)."""
    vertical = rankdir in ("TB", "BT")
    nodes = _all_nodes(picture.root)
    rank = _ranks(nodes, picture.edges)
    boxes = {n.id: _Box(n, rank[n.id], *_size(n)) for n in nodes}
    _place(boxes, picture.edges, vertical)
    width = max((b.x + b.w for b in boxes.values()), default=0) + MARGIN + PAD
    height = max((b.y + b.h for b in boxes.values()), default=0) + MARGIN + PAD + 24
    markers = "".join(
        f'<marker id="arrow-{style}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{color}"/></marker>'
        for style, color in _STROKE.items()
    )
    body = [
        *_frames(picture.root, boxes, 0),
        *(_edge_svg(e, boxes, vertical) for e in picture.edges),
        *(_node_svg(b) for b in boxes.values()),
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="servegraph-graph" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="system-ui, -apple-system, Segoe UI, sans-serif" role="img" '
        f'aria-label="{html.escape(picture.root.label)}"><defs>{markers}</defs>'
        + "".join(body)
        + "</svg>"
    )


def to_svg(step: BaseStep, rankdir: str = "LR") -> str:
    """A standalone SVG drawing of the graph (no Graphviz, no script)."""
    return layout_to_svg(layout(step), rankdir)
