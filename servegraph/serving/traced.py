"""A compiled plan with a span around every step (only when tracing is on).

Wrapping happens once, at compile time: a server without tracing runs the plan
as compiled, so tracing costs nothing when it is off.
"""

from __future__ import annotations

from typing import Any

from servegraph.serving.event import Event
from servegraph.serving.plan import Node, Plan
from servegraph.tracing import step_span


def instrument_plan(plan: Plan, tracer: Any, seen: set[int] | None = None) -> None:
    """Wrap every node's runners (and those of error-handler plans) in a step span."""
    seen = set() if seen is None else seen
    if id(plan) in seen:
        return
    seen.add(id(plan))
    for node in plan.nodes:
        _instrument(node, tracer)
        if node.on_error is not None:
            instrument_plan(node.on_error, tracer, seen)
    plan.body_chain = None  # body-only calls have no event to parent their spans


def _instrument(node: Node, tracer: Any) -> None:
    name, run, arun = node.name, node.run, node.arun

    def traced_run(event: Event) -> Event:
        with step_span(tracer, name, event):
            return run(event)

    node.run = traced_run
    node.body_fn = None
    if arun is not None:

        async def traced_arun(event: Event) -> Event:
            with step_span(tracer, name, event):
                return await arun(event)

        node.arun = traced_arun
