"""Graphs to and from plain dicts and YAML (the MLRun-compatible form).

A graph root is a flow (``{"kind": "flow", "steps": {...}, "engine": ...}``;
MLRun also writes ``"root"`` or no kind) or a router (``{"kind": "router",
"class_name": ..., "routes": {...}}``)::

    graph = graph_from_dict({"kind": "flow", "steps": {"double": {"handler": "(event * 2)"}}})
    assert from_yaml(to_yaml(graph)).to_dict() == graph.to_dict()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep, known_kinds, step_from_dict
from servegraph.graph.flow import RootFlowStep
from servegraph.graph.router import RouterStep

ROOT_FLOW_KINDS = (None, "", "flow", "root")


def graph_from_dict(
    struct: Mapping[str, Any] | RootFlowStep | RouterStep,
) -> RootFlowStep | RouterStep:
    """Build a graph root from its dict form (a root step object is returned as is).

    >>> graph_from_dict({"steps": {"a": {"handler": "json.dumps"}}}).steps["a"].handler
    'json.dumps'
    """
    if isinstance(struct, RootFlowStep | RouterStep):
        return struct
    if not isinstance(struct, Mapping):
        raise GraphError(f"graph: expected a dict, got {struct!r}")
    kind = struct.get("kind")
    if kind == RouterStep.kind:
        return RouterStep.from_dict(struct)
    if kind in ROOT_FLOW_KINDS:
        return RootFlowStep.from_dict({k: v for k, v in struct.items() if k != "kind"})
    raise GraphError(f"graph: the root must be a 'flow' or a 'router', got kind {kind!r}")


def load_step(struct: Mapping[str, Any] | BaseStep) -> BaseStep:
    """A graph root for flow/router dicts, otherwise a single step of its kind."""
    if isinstance(struct, Mapping) and struct.get("kind") not in ("task", "queue"):
        return graph_from_dict(struct)
    return step_from_dict(struct)


def to_yaml(step: BaseStep) -> str:
    """YAML text of a step's dict form, fields in their natural order."""
    try:
        return yaml.safe_dump(step.to_dict(), sort_keys=False)
    except yaml.YAMLError as exc:
        raise GraphError(
            f"{step._where()}: cannot write YAML, a field holds a non-plain value: {exc}"
        ) from exc


def from_yaml(text: str) -> BaseStep:
    """Read a graph (or a single step) from YAML text written by :func:`to_yaml`."""
    try:
        struct = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GraphError(f"graph: invalid YAML: {exc}") from exc
    if not isinstance(struct, Mapping):
        raise GraphError(f"graph: YAML must hold a mapping, got {type(struct).__name__}")
    return load_step(struct)


__all__ = ["from_yaml", "graph_from_dict", "known_kinds", "load_step", "step_from_dict", "to_yaml"]
