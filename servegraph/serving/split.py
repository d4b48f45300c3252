"""A graph cut into functions at its queue steps, and the queue's delivery envelope.

Steps given ``function="child"`` run in that child function; the others in the
root function. Served as one function (``current_function`` set), a flow
keeps only that function's steps: the root pushes to the queue and answers,
the child starts at the steps the queue fed and reads the queue's stream.
The mock server (no ``current_function``, or ``"*"``) runs the whole graph.

A queue pushes ``{"_event_id": id, "body": body, "path": path}`` so the child
gets any body (not only JSON objects) and can drop a second copy of an event
it already handled: a retried request (same ``X-Request-Id``) is pushed once
by a root process and run once by a child process (:class:`SeenIds`).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

EVENT_ID_KEY = "_event_id"
SEEN_LIMIT = 100_000  # event ids remembered per process


def owner(step: Any, root: str) -> str:
    """The function a step runs in (``root`` unless the step names another)."""
    return str(getattr(step, "function", None) or root)


def function_steps(steps: Mapping[str, Any], current: str, root: str) -> dict[str, Any]:
    """The steps of function ``current``; inlets from other functions' steps are cut
    (on copies: the graph itself is not changed)."""
    kept = {name: step for name, step in steps.items() if owner(step, root) == current}
    out: dict[str, Any] = {}
    for name, step in kept.items():
        after = [p for p in step.after or [] if p in kept]
        if after != list(step.after or []):
            step = copy.copy(step)
            step.after = after
        out[name] = step
    return out


def child_sources(steps: Mapping[str, Any], child: str, root: str) -> list[str]:
    """The stream URLs of the queue steps that feed function ``child``."""
    sources: list[str] = []
    for step in steps.values():
        if owner(step, root) != child:
            continue
        for parent in step.after or []:
            feeder = steps.get(parent)
            path = getattr(feeder, "path", None) if getattr(feeder, "kind", "") == "queue" else None
            if path and owner(feeder, root) != child and path not in sources:
                sources.append(path)
    return sources


def envelope(event_id: str, body: Any, path: str | None) -> dict[str, Any]:
    """The record a queue pushes for an event."""
    return {EVENT_ID_KEY: event_id, "body": body, "path": path or "/"}


def unwrap(data: Mapping[str, Any]) -> tuple[str | None, Any, str]:
    """``(event id, body, path)`` of a record (a record from elsewhere is the body)."""
    if EVENT_ID_KEY in data and "body" in data:
        return str(data[EVENT_ID_KEY]), data["body"], str(data.get("path") or "/")
    return None, dict(data), "/"


class SeenIds:
    """The last ``limit`` event ids handled, and those in flight (one copy at a time).

    >>> seen = SeenIds()
    >>> seen.claim("e1"), seen.claim("e1")
    (True, False)
    >>> seen.release("e1", done=False); seen.claim("e1")  # a failed try may run again
    True
    """

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, bool] = OrderedDict()  # id -> done

    def claim(self, event_id: str) -> bool:
        """True when ``event_id`` is neither done nor in flight (it is then in flight)."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = False
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        return True

    def release(self, event_id: str, done: bool) -> None:
        """Mark a claimed id done, or forget it (the try failed: a retry may run it)."""
        if done:
            self._ids[event_id] = True
        else:
            self._ids.pop(event_id, None)
