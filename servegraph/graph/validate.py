"""Check a graph before it runs; every problem raises GraphError naming the step.

Checked: step names match their keys; ``after``/``on_error`` targets exist;
no cycles (through ``after`` and error paths); a non-empty flow has a start
step; at most one responder per flow, and one where a response is required
from an async flow; tasks name a class or a handler; router routes are tasks;
with ``resolve=True``, every class and handler resolves in the namespace.
"""

from __future__ import annotations

from typing import Any

from servegraph.errors import GraphError
from servegraph.graph.base import BaseStep
from servegraph.graph.flow import FlowStep
from servegraph.graph.queue import QueueStep
from servegraph.graph.resolve import resolve_class, resolve_handler
from servegraph.graph.router import DEFAULT_ROUTER_CLASS, RouterStep
from servegraph.graph.task import TaskStep
from servegraph.graph.topology import find_cycle


def validate_step(
    step: BaseStep,
    resolve: bool = False,
    namespace: Any = None,
    require_responder: bool = False,
) -> None:
    """Validate ``step`` and everything nested in it (see the module docstring)."""
    if isinstance(step, FlowStep):
        _validate_flow(step, resolve, namespace, require_responder)
    elif isinstance(step, RouterStep):
        _validate_router(step, resolve, namespace)
    elif isinstance(step, TaskStep):
        _validate_task(step, resolve, namespace)
    elif isinstance(step, QueueStep):
        pass  # a queue without a path is an in-process queue (MLRun)


def _where(step: BaseStep) -> str:
    return f"step {step.fullname or step.name!r}" if step.name else f"{step.kind} step"


def _validate_flow(flow: FlowStep, resolve: bool, namespace: Any, require_responder: bool) -> None:
    where = "graph" if flow.parent is None else _where(flow)
    known = ", ".join(flow.steps) or "none"
    for key, step in flow.steps.items():
        if step.name != key:
            raise GraphError(
                f"step {key!r}: its name was changed to {step.name!r}; names must match keys "
                "(duplicate or renamed step)"
            )
        if step.parent is not flow:
            raise GraphError(f"step {key!r}: not attached to {where}")
        for target in step.after:
            if target not in flow.steps:
                raise GraphError(
                    f"step {key!r}: unknown 'after' target {target!r} (known steps: {known})"
                )
            if target == key:
                raise GraphError(f"step {key!r}: cannot run after itself (cycle)")
        if step.on_error is not None and step.on_error not in flow.steps:
            raise GraphError(
                f"step {key!r}: unknown 'on_error' target {step.on_error!r} (known steps: {known})"
            )
        if step.on_error == key:
            raise GraphError(f"step {key!r}: cannot be its own error handler")
    if flow.on_error is not None and flow.on_error not in flow.steps:
        raise GraphError(
            f"{where}: unknown 'on_error' target {flow.on_error!r} (known steps: {known})"
        )
    if flow.final_step is not None and flow.final_step not in flow.steps:
        raise GraphError(
            f"{where}: unknown 'final_step' {flow.final_step!r} (known steps: {known})"
        )
    _check_cycles(flow)
    if flow.steps and not flow.start_steps():
        raise GraphError(f"{where}: no start step (every step runs after another one)")
    responders = flow.responders()
    if len(responders) > 1:
        raise GraphError(f"{where}: more than one responder step ({', '.join(responders)})")
    if require_responder and flow.is_async and not responders:
        raise GraphError(
            f"{where}: an async flow needs a responder for a response; "
            "call .respond() on the step whose output is returned"
        )
    for step in flow.steps.values():
        validate_step(step, resolve=resolve, namespace=namespace)


def _check_cycles(flow: FlowStep) -> None:
    cycle = find_cycle(flow.steps)
    if cycle is not None:
        raise GraphError(f"step {cycle[0]!r}: graph cycle {' -> '.join(cycle)}")


def _validate_task(step: TaskStep, resolve: bool, namespace: Any) -> None:
    if step.class_name is None and step.handler is None:
        raise GraphError(f"{_where(step)}: class_name or handler must be given")
    if not resolve:
        return
    if step.class_name is None:
        try:
            resolve_handler(step.handler, namespace)
        except GraphError as exc:
            raise GraphError(f"{_where(step)}: {exc}") from exc
        return
    cls = _resolve_step_class(step, step.class_name, namespace)
    if isinstance(step.handler, str) and not callable(getattr(cls, step.handler, None)):
        raise GraphError(
            f"{_where(step)}: class {cls.__name__} has no method {step.handler!r} (handler)"
        )


def _resolve_step_class(step: TaskStep, class_name: object, namespace: Any) -> type[Any]:
    try:
        return resolve_class(class_name, namespace)
    except GraphError as exc:
        raise GraphError(f"{_where(step)}: {exc}") from exc


def _validate_router(step: RouterStep, resolve: bool, namespace: Any) -> None:
    for key, route in step.routes.items():
        if route.name != key:
            raise GraphError(
                f"{_where(step)}: route {key!r} was renamed to {route.name!r}; "
                "names must match keys"
            )
        if not isinstance(route, TaskStep):
            raise GraphError(f"{_where(step)}: route {key!r} must be a task step")
        validate_step(route, resolve=resolve, namespace=namespace)
    if resolve:
        _resolve_step_class(step, step.class_name or DEFAULT_ROUTER_CLASS, namespace)
