"""Error handlers: a step that receives the events another step (or the flow) failed on.

An error handler is an ordinary step of the flow, named by the failing step's
``on_error`` (MLRun semantics). It is not a start step and not a chain member
(``"$prev"`` does not move to it); with ``before=`` the flow continues at the
named step after the handler ran. ``step.error_handler(...)`` calls
:func:`attach_error_handler`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep, Handler
from servegraph.graph.params import step_from_params

if TYPE_CHECKING:
    from servegraph.graph.flow import FlowStep


def attach_error_handler(
    flow: FlowStep,
    owner: BaseStep,
    name: str | None,
    class_name: object,
    handler: Handler | None,
    *,
    function: str | None = None,
    full_event: bool | None = None,
    before: str | None = None,
    input_path: str | None = None,
    result_path: str | None = None,
    class_args: dict[str, Any] | None = None,
) -> str:
    """Create (or pick) the error handler step in ``flow`` for ``owner``; return its name.

    With a class or handler, a new step is added (its name derived if not given).
    With only ``name``, an existing step of that name is used, or else ``name``
    is the handler function's name (``graph.error_handler("catcher")``).
    """
    steps = flow.steps
    where = owner._where() if owner is not flow else f"{flow._where()} error handler"
    if before is not None and owner is flow:
        raise GraphError(f"{where}: 'before' cannot be set on the flow itself")
    if before is not None and before not in steps:
        raise GraphError(
            f"{where}: unknown 'before' target {before!r} "
            f"(known steps: {', '.join(steps) or 'none'})"
        )
    if class_name is None and handler is None:
        if name is None:
            raise GraphError(f"{where}: error_handler() needs name, class_name or handler")
        if name not in steps:
            handler = name
        elif class_args or function is not None or full_event is not None:
            raise GraphError(f"{where}: step {name!r} exists; it takes no new arguments")
    if class_name is not None or handler is not None:
        key, step = step_from_params(
            class_name,
            name,
            handler,
            function=function,
            full_event=full_event,
            input_path=input_path,
            result_path=result_path,
            class_args=class_args,
            taken=steps,
        )
        steps[key] = step  # not through insert_step: "$prev" stays where it was
        name = key
    assert name is not None
    if name == owner.name and owner is not flow:
        raise GraphError(f"{where}: a step cannot be its own error handler")
    if before is not None:
        steps[before].after_step(name)
    return name
