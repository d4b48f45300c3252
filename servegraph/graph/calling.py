"""How a class step is called: the one rule both the serving engines and the
feature store's ingestion follow.

A class step calls, in this order: the method named by its ``handler``; else
``do_event(event)`` (it gets the whole event); else ``do(body)``; else the
function of a storey ``Map`` / ``Extend`` given as the step (MLRun graphs write
``graph.to("storey.Extend", _fn="({'tag': 1})")``). Rows of a feature set are
bodies, not events: there ``do`` comes before ``do_event``, and a step with
only ``do_event`` cannot run.

>>> class Double:
...     def do(self, x):
...         return x * 2
>>> method, full_event = step_method(Double(), None, "step 'd'")
>>> method(4), full_event
(8, False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from servegraph.errors import GraphError


def step_method(
    obj: Any, handler: str | None, where: str, rows: bool = False
) -> tuple[Callable[..., Any], bool]:
    """``(method, full_event)`` of a class step (see the module); ``rows=True`` for
    feature-set rows, which are bodies. GraphError names the step when there is none."""
    kind = type(obj).__name__
    if handler:
        method = getattr(obj, handler, None)
        if not callable(method):
            raise GraphError(f"{where}: class {kind} has no method {handler!r}")
        return method, False
    do_event = getattr(obj, "do_event", None)
    do = getattr(obj, "do", None)
    if rows and callable(do):
        return do, False
    if callable(do_event):
        if rows:
            raise GraphError(
                f"{where}: class {kind} works on whole events (do_event); rows need do()"
            )
        return do_event, True
    if callable(do):
        return do, False
    if not rows and _is_storey_job(obj):
        return storey_job(obj), True
    return storey_method(obj, where), False


def _is_storey_job(obj: Any) -> bool:
    if not any(c.__module__.split(".")[0] == "storey" for c in type(obj).__mro__):
        return False
    import storey.flow

    return isinstance(obj, storey.flow._ConcurrentJobExecution)


def storey_job(obj: Any) -> Callable[[Any], Any]:
    """The event method of a storey concurrent-job step (``_process_event`` awaited, its
    answer the new body, as storey's default ``_handle_completed`` passes it on)."""

    async def process(event: Any) -> Any:
        event.body = await obj._process_event(event)
        return event

    return process


def storey_method(obj: Any, where: str) -> Callable[[Any], Any]:
    """The body function of a storey ``Map`` or ``Extend`` used as a step; other
    objects raise GraphError."""
    kind = type(obj).__name__
    if type(obj).__module__.split(".")[0] == "storey":
        import storey

        fn: Callable[[Any], Any] | None = getattr(obj, "_fn", None)
        if fn is not None and getattr(obj, "_full_event", False):
            raise GraphError(f"{where}: storey.{kind} with full_event=True is not supported")
        if fn is not None and isinstance(obj, storey.Extend):

            def extend(body: Any) -> Any:
                body.update(fn(body))
                return body

            return extend
        if fn is not None and type(obj) is storey.Map:
            return fn
        raise GraphError(
            f"{where}: storey.{kind} is not supported in a serving graph "
            "(storey Map and Extend are; write a class with do() for the rest)"
        )
    raise GraphError(f"{where}: class {kind} has no do() or do_event() method")
