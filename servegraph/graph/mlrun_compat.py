"""Read the step dicts newer MLRun versions write that have no kind of their own here.

MLRun (1.6+) writes a step's error handler as ``{"kind": "error_step",
"before": [...], "base_step": ...}``. Here an error handler is a plain task
step named by another step's ``on_error``; ``before`` becomes an inlet of the
named steps (the flow goes on there after the handler ran) and ``base_step``
is already recorded as that step's ``on_error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servegraph.errors import GraphError

ERROR_STEP_KIND = "error_step"


def split_error_steps(
    steps: Mapping[str, Any], where: str
) -> tuple[dict[str, Any], list[tuple[str, list[str]]]]:
    """Return the steps with error steps turned into tasks, and ``(handler, before)`` pairs.

    >>> split_error_steps({"h": {"kind": "error_step", "handler": "f", "before": ["b"]}}, "graph")
    ({'h': {'kind': 'task', 'handler': 'f'}}, [('h', ['b'])])
    """
    converted: dict[str, Any] = {}
    befores: list[tuple[str, list[str]]] = []
    for name, struct in steps.items():
        if isinstance(struct, Mapping) and struct.get("kind") == ERROR_STEP_KIND:
            fields = {k: v for k, v in struct.items() if k not in ("before", "base_step")}
            fields["kind"] = "task"
            before = struct.get("before") or []
            if isinstance(before, str):
                before = [before]
            if not isinstance(before, list) or not all(isinstance(b, str) for b in before):
                raise GraphError(
                    f"{where}: step {name!r}: 'before' must be a list of step names, got {before!r}"
                )
            if before:
                befores.append((name, before))
            struct = fields
        converted[name] = struct
    return converted, befores
