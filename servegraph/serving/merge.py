"""Merge: join the events of parallel branches that belong together (MLRun's ``Merge``).

A step with several inlets runs once per arriving event. To get one event
per request back, put a ``Merge`` there: it holds the parts of each key until
all inlets delivered (``expected_num_events``, by default the step's number
of inlets), then passes one event on whose body is the list of the parts'
bodies, in arrival order. Events are joined by ``event.id`` unless
``key_path`` names an expression of the body (``"event['doc_id']"``). At most
``max_behind`` keys wait (default 64): when one more arrives, the oldest
incomplete key is dropped and its late parts are ignored.

    graph.add_step(Merge(name="join"), after=["add2", "add3"]).respond()

Subclass and override ``get_join_key`` or ``merge_function`` for other joins.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import Any

from servegraph.errors import GraphError
from servegraph.graph.resolve import resolve_handler
from servegraph.serving.event import Event

DEFAULT_MAX_BEHIND = 64


class Merge:
    """Joins the parts of each key; partial keys pass nothing on (see the module).

    Parameters:
        full_event: ``merge_function`` and ``key_path`` see the events (default
            when no ``key_path``) rather than their bodies.
        key_path: an expression of ``event`` (the body, or the event with
            ``full_event``) giving the join key; default ``event.id``.
        max_behind: how many incomplete keys may wait (default 64).
        expected_num_events: parts per key (default: the step's number of inlets).
    """

    #: the engines stop the branch when ``do_event`` returns None
    drops_events = True

    def __init__(
        self,
        full_event: bool | None = None,
        key_path: str | None = None,
        max_behind: int | None = None,
        expected_num_events: int | None = None,
        name: str | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> None:
        for field, value in (
            ("max_behind", max_behind),
            ("expected_num_events", expected_num_events),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise GraphError(
                    f"The {field!r} parameter of Merge must be a positive int. "
                    f"Got {value!r} instead."
                )
        self.name = name
        self.context = context
        self.key_path = key_path
        self.max_behind = max_behind
        self.expected_num_events = expected_num_events
        self.full_event = full_event if full_event is not None else not key_path
        self._key = resolve_handler(f"({key_path})") if key_path else None
        self._inlets = 0
        self._parts: OrderedDict[Any, list[Any]] = OrderedDict()
        self._late: deque[Any] = deque(maxlen=max_behind or DEFAULT_MAX_BEHIND)
        self._lock = threading.Lock()

    def set_inlets(self, count: int) -> None:
        """Told by the engine: how many steps feed this one."""
        self._inlets = count

    @property
    def parts_expected(self) -> int:
        """Parts that make a key complete."""
        return self.expected_num_events or self._inlets

    def get_join_key(self, item: Any) -> Any:
        """The join key of an event (or body); override for custom joins."""
        if self._key is not None:
            return self._key(item)
        return item.id if isinstance(item, Event) else id(item)

    def merge_function(self, last_event: Event, items: list[Any]) -> Any:
        """The merged body from the parts (events or bodies, in arrival order)."""
        if self.full_event:
            return [item.body for item in items]
        return list(items)

    def do_event(self, event: Event) -> Event | None:
        """Keep a part; return the merged event once the key is complete, else None."""
        expected = self.parts_expected
        if expected <= 1:
            return event
        item = event if self.full_event else event.body
        key = self.get_join_key(item)
        with self._lock:
            if key in self._late:
                self._warn(f"a late part of key {key!r} arrived after it was dropped: ignored")
                return None
            parts = self._parts.get(key)
            if parts is None:
                self._parts[key] = [item]
                if len(self._parts) > (self.max_behind or DEFAULT_MAX_BEHIND):
                    old, _ = self._parts.popitem(last=False)
                    self._late.append(old)
                    self._warn(f"missing parts for key {old!r} after a long wait: dropped")
                return None
            parts.append(item)
            if len(parts) < expected:
                return None
            del self._parts[key]
        event.body = self.merge_function(event, parts)
        return event

    def _warn(self, message: str) -> None:
        logger = getattr(self.context, "logger", None)
        if logger is not None:
            logger.warning(f"Merge {self.name!r}: {message}")
