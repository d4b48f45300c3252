"""How a step's exception becomes the request's error (shared by both engines)."""

from __future__ import annotations

from servegraph.errors import ServegraphError, StepError, StepTimeoutError
from servegraph.serving.event import Event
from servegraph.serving.plan import Node


class Handled(Exception):
    """Internal: an error handler produced the request's result; unwinds the walk."""

    def __init__(self, event: Event) -> None:
        super().__init__("handled")
        self.event = event


def as_request_error(node: Node, exc: BaseException) -> ServegraphError:
    """Our errors keep their class (and status); others become StepError naming the step."""
    if isinstance(exc, ServegraphError):
        return exc
    if isinstance(exc, TimeoutError) and node.timeout is not None:
        return StepTimeoutError(f"step {node.name!r} exceeded its timeout of {node.timeout}s")
    return StepError(node.name, f"{type(exc).__name__}: {exc}")


def mark(event: Event, node: Node, exc: BaseException) -> Event:
    """Set ``error`` (the exception object) and ``origin_state`` on the event for a handler.

    A step's timeout becomes a StepTimeoutError naming the step (caused by the
    TimeoutError); any other exception is handed over as raised.
    """
    error = exc
    if node.timeout is not None and isinstance(exc, TimeoutError):
        error = as_request_error(node, exc)
        error.__cause__ = exc
    event.error = error
    event.origin_state = node.name
    return event
