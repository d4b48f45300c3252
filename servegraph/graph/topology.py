"""Graph algorithms over a flow's ``{name: step}``: start steps, outlets, order, cycles.

Edges run from each name in a step's ``after`` to the step, and from a step
to its ``on_error`` handler. Error handlers are not start steps: they only
receive failed events.
"""

from __future__ import annotations

from collections.abc import Mapping

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep


def error_handlers(steps: Mapping[str, BaseStep], flow_on_error: str | None = None) -> set[str]:
    """Names that are some step's (or the flow's) ``on_error`` target."""
    names = {step.on_error for step in steps.values() if step.on_error}
    if flow_on_error:
        names.add(flow_on_error)
    return names


def start_steps(steps: Mapping[str, BaseStep], flow_on_error: str | None = None) -> list[str]:
    """Steps that receive the incoming event: no ``after``, not an error handler."""
    handlers = error_handlers(steps, flow_on_error)
    return [name for name, step in steps.items() if not step.after and name not in handlers]


def outlets(steps: Mapping[str, BaseStep], with_errors: bool = True) -> dict[str, list[str]]:
    """``{name: names it feeds}`` in insertion order (error handlers last when included).

    Targets that are not in ``steps`` are skipped (validation reports them).
    """
    out: dict[str, list[str]] = {name: [] for name in steps}
    for name, step in steps.items():
        for inlet in step.after:
            if inlet in out:
                out[inlet].append(name)
    if with_errors:
        for name, step in steps.items():
            if step.on_error in out:
                out[name].append(step.on_error)
    return out


def find_cycle(steps: Mapping[str, BaseStep]) -> list[str] | None:
    """A cycle as ``[a, b, ..., a]`` (through ``after`` and error paths), or None."""
    edges = outlets(steps)
    done: set[str] = set()
    for root in steps:
        if root in done:
            continue
        path = [root]
        on_path = {root}
        pending = [iter(edges[root])]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                pending.pop()
            elif nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                pending.append(iter(edges[nxt]))
    return None


def topological_order(steps: Mapping[str, BaseStep]) -> list[str]:
    """Every step name, each after all its inlets (and after the steps it handles errors
    for), in a deterministic order. A cycle raises GraphError.

    >>> from servegraph.graph import RootFlowStep
    >>> graph = RootFlowStep()
    >>> _ = graph.to(name="a", handler="h").to(name="b", handler="h")
    >>> _ = graph.add_step(name="c", handler="h", after="a", before="b")
    >>> topological_order(graph.steps)
    ['a', 'c', 'b']
    """
    cycle = find_cycle(steps)
    if cycle is not None:
        raise GraphError(f"step {cycle[0]!r}: graph cycle {' -> '.join(cycle)}")
    edges = outlets(steps)
    indegree = dict.fromkeys(steps, 0)
    for targets in edges.values():
        for target in targets:
            indegree[target] += 1
    order: list[str] = []
    ready = [name for name in steps if indegree[name] == 0]
    while ready:
        name = ready.pop(0)
        order.append(name)
        for target in edges[name]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return order
