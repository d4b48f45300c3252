"""The sync engine: a tight walk of plain calls over a compiled plan.

>>> # event = run_sync(plan, Event(body=...))   # the result event
"""

from __future__ import annotations

from servegraph.serving.errors_map import Handled, as_request_error, mark
from servegraph.serving.event import Event
from servegraph.serving.plan import Node, Plan
from servegraph.serving.sync_bridge import thread_pool


def run_sync(plan: Plan, event: Event) -> Event:
    """Run ``event`` through ``plan``; return the result event.

    Raises a ServegraphError (StepError naming the step, StepTimeoutError, or the
    step's own ServegraphError) when a step fails and no error handler takes it.
    """
    body_chain = plan.body_chain
    if body_chain is not None:
        body = event.body
        index = 0
        try:
            for fn in body_chain:
                body = fn(body)
                index += 1
        except Exception as exc:
            event.body = body
            return _handle(plan.nodes[index], event, exc)
        event.body = body
        return event
    chain = plan.chain
    if chain is not None:
        node = None
        try:
            for node in chain:
                event = node.run(event)
        except Exception as exc:
            assert node is not None
            return _handle(node, event, exc)
        return event
    walk = _Walk(plan)
    try:
        starts = plan.starts
        events = fan_out(event, len(starts), plan.result in starts)
        for start, ev in zip(starts, events, strict=True):
            walk.visit(start, ev)
    except Handled as handled:
        return handled.event
    # no result step reached (e.g. an empty graph): the event as it came in
    return walk.result if walk.result is not None else event


def fan_out(event: Event, count: int, keep_original: bool) -> list[Event]:
    """Events for ``count`` branches; the first is the event itself unless it is the result."""
    if count <= 1 and not keep_original:
        return [event][:count]
    _ = event.id  # the copies share one id (a Merge joins them by it)
    first = [] if keep_original else [event]
    return first + [copy_event(event) for _ in range(count - len(first))]


def copy_event(event: Event) -> Event:
    """An independent copy for a parallel branch (deep-copies the body when it can)."""
    try:
        return event.copy(deep=True)
    except Exception:
        return event.copy()


class _Walk:
    """One request's walk: a step with several inlets runs once per arriving event
    (MLRun); a step answering None (a ``Merge`` holding a part) ends its branch."""

    __slots__ = ("plan", "result")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.result: Event | None = None

    def visit(self, node: Node, event: Event) -> None:
        result_node = self.plan.result
        while True:
            try:
                if node.timeout is None:
                    out = node.run(event)
                else:
                    # on a copy: a step that outlives its timeout keeps running in its
                    # thread and must not change the event the error handler gets
                    out = thread_pool().submit(node.run, event.copy()).result(node.timeout)
            except Handled:
                raise
            except Exception as exc:
                raise Handled(_handle(node, event, exc)) from None
            if out is None:
                return
            if node is result_node:
                self.result = out
            outlets = node.outlets
            if not outlets:
                return
            events = fan_out(out, len(outlets), node is result_node)
            if len(outlets) > 1:
                for nxt, ev in zip(outlets, events, strict=True):
                    self.visit(nxt, ev)
                return
            node = outlets[0]
            event = events[0]


def _handle(node: Node, event: Event, exc: BaseException) -> Event:
    handler = node.on_error
    if handler is None:
        error = as_request_error(node, exc)
        if error is exc:
            raise error  # our own error keeps its own cause
        raise error from exc
    return run_sync(handler, mark(event, node, exc))
