"""Interfaces shared by the engines and the router/model classes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from servegraph.serving.event import Event

EventRunner = Callable[[Event], Event]
AsyncEventRunner = Callable[[Event], Awaitable[Event]]


class Route:
    """A compiled route of a router: its key, the step object and a sync runner.

    ``run(event)`` returns the event with the route's result as its body;
    ``arun`` is set when the step is async (e.g. a batching model).
    """

    __slots__ = ("arun", "name", "object", "run")

    def __init__(
        self, name: str, obj: Any, run: EventRunner, arun: AsyncEventRunner | None = None
    ) -> None:
        self.name = name
        self.object = obj
        self.run = run
        self.arun = arun

    def __repr__(self) -> str:
        return f"Route({self.name!r}, {type(self.object).__name__})"
