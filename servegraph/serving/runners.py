"""Step runners: turn a step's method into ``run(event) -> event`` (and an async twin).

The runner is chosen once, at compile time: a plain ``do(body)`` call, a
full-event call, a call through ``input_path`` / ``result_path``, or a
coroutine awaited by the async engine (and bridged for the sync engine).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from servegraph.errors import GraphError
from servegraph.serving.base import EventRunner
from servegraph.serving.event import Event
from servegraph.serving.paths import get_path, set_path
from servegraph.serving.sync_bridge import run_coroutine

AsyncRunner = Callable[[Event], Coroutine[Any, Any, Event]]


def passthrough(event: Event) -> Event:
    """The runner of a step that hands the event on unchanged."""
    return event


def post_init(obj: Any, mode: str) -> None:
    """Call the object's ``post_init(mode)`` hook if it has one (models load there)."""
    hook = getattr(obj, "post_init", None)
    if callable(hook):
        hook(mode)


def accepts_context(func: Callable[..., Any]) -> bool:
    """Whether a handler takes a ``context`` parameter."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "context" in params


def sync_of(arun: AsyncRunner) -> EventRunner:
    """A sync runner for an async step (runs it on the background loop)."""

    def run(event: Event) -> Event:
        return run_coroutine(arun(event))

    return run


def wrap(
    method: Callable[..., Any],
    full: bool,
    input_path: tuple[str, ...],
    result_path: tuple[str, ...],
    obj: Any,
) -> tuple[EventRunner, AsyncRunner | None, Any]:
    """Build the sync and async runners of a step method."""
    if inspect.iscoroutinefunction(method):
        if full:

            async def arun(event: Event) -> Event:
                original = event.body
                if input_path:
                    event.body = get_path(original, input_path)
                out = as_event(event, await method(event))
                if result_path:
                    out.body = set_path(original, result_path, out.body)
                return out
        else:

            async def arun(event: Event) -> Event:
                body = get_path(event.body, input_path) if input_path else event.body
                event.body = set_path(event.body, result_path, await method(body))
                return event

        return sync_of(arun), arun, obj

    if full and (input_path or result_path):

        def run(event: Event) -> Event:
            original = event.body
            if input_path:
                event.body = get_path(original, input_path)
            out = as_event(event, method(event))
            if result_path:
                out.body = set_path(original, result_path, out.body)
            return out
    elif full:

        def run(event: Event) -> Event:
            result = method(event)
            if result is None:
                return event
            if result.__class__ is Event or isinstance(result, Event):
                return result  # type: ignore[no-any-return]
            event.body = result
            return event
    elif input_path or result_path:

        def run(event: Event) -> Event:
            body = get_path(event.body, input_path) if input_path else event.body
            event.body = set_path(event.body, result_path, method(body))
            return event
    else:

        def run(event: Event) -> Event:
            event.body = method(event.body)
            return event

        run.body_fn = method  # type: ignore[attr-defined]
    return run, None, obj


def as_event(event: Event, result: Any) -> Event:
    if result is None:
        return event
    if isinstance(result, Event):
        return result
    event.body = result
    return event


def step_timeout(step: Any) -> float | None:
    """A step's ``timeout`` in seconds (None: none); GraphError when it is not positive."""
    timeout = getattr(step, "timeout", None)
    if timeout is None:
        return None
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise GraphError(
            f"The 'timeout' of step {getattr(step, 'name', '?')!r} must be a positive number "
            f"of seconds. Got {timeout!r} instead."
        )
    return float(timeout)
