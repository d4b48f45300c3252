"""Events flowing through a serving graph, and the response the server returns.

>>> ev = Event(body={"x": 1}, path="/v2/models/m/infer")
>>> ev.method
'POST'
>>> Response({"ok": True}).status_code
200
"""

from __future__ import annotations

import itertools
import os
from typing import Any

_PREFIX = os.urandom(4).hex()
_counter = itertools.count(1)


def new_event_id() -> str:
    """A process-unique event id (cheap: random process prefix + counter)."""
    return f"{_PREFIX}-{next(_counter)}"


class Event:
    """One request or stream record travelling through the graph.

    ``method`` defaults to ``"POST"`` when there is a body and ``"GET"``
    otherwise; ``id`` is generated on first read when not given. ``error`` (the
    exception) and ``origin_state`` are set when the event is handed to an error
    handler; ``trace`` holds the request's OpenTelemetry context when tracing is on.
    """

    __slots__ = (
        "_id",
        "body",
        "content_type",
        "error",
        "headers",
        "key",
        "method",
        "origin_state",
        "path",
        "time",
        "trace",
        "trigger",
    )

    def __init__(
        self,
        body: Any = None,
        content_type: str | None = None,
        headers: dict[str, Any] | None = None,
        method: str | None = None,
        path: str | None = "/",
        id: str | None = None,
        key: Any = None,
        time: Any = None,
        trigger: Any = None,
    ) -> None:
        self.body = body
        self.content_type = content_type
        self.headers = headers if headers is not None else {}
        self.method = method or ("POST" if body is not None else "GET")
        self.path = path or "/"
        self._id = id
        self.key = key
        self.time = time
        self.trigger = trigger
        self.error: BaseException | None = None
        self.origin_state: str | None = None
        self.trace: Any = None  # the request's OpenTelemetry context, when tracing is on

    @property
    def id(self) -> str:
        """The event id (generated on first access if none was given)."""
        if self._id is None:
            self._id = f"{_PREFIX}-{next(_counter)}"
        return self._id

    @id.setter
    def id(self, value: str | None) -> None:
        self._id = value

    def copy(self, body: Any = None, deep: bool = False) -> Event:
        """A shallow copy of the event; ``body`` replaces the body, ``deep`` deep-copies it."""
        new = Event.__new__(type(self))
        for slot in Event.__slots__:
            setattr(new, slot, getattr(self, slot))
        if body is not None:
            new.body = body
        elif deep:
            import copy

            new.body = copy.deepcopy(self.body)
        return new

    def __repr__(self) -> str:
        return (
            f"Event(id={self._id!r}, path={self.path!r}, method={self.method!r}, "
            f"body={self.body!r})"
        )


class MockEvent(Event):
    """An event built by hand, as the mock server does (MLRun's ``MockEvent``).

    >>> MockEvent(body=[1, 2], path="/").method
    'POST'
    """

    __slots__ = ()

    def __init__(
        self,
        body: Any = None,
        content_type: str | None = None,
        headers: dict[str, Any] | None = None,
        method: str | None = None,
        path: str | None = None,
        event_id: str | None = None,
        trigger: Any = None,
    ) -> None:
        # the attributes are set here rather than through Event.__init__: this is
        # the mock server's hot path
        self.body = body
        self.content_type = content_type
        self.headers = headers if headers is not None else {}
        self.method = method or ("POST" if body is not None else "GET")
        self.path = path or "/"
        self._id = event_id
        self.key = None
        self.time = None
        self.trigger = trigger
        self.error = None
        self.origin_state = None
        self.trace = None


class MockTrigger:
    """The trigger an event came from, as Nuclio describes it (``kind``: ``"http"``,
    ``"stream"``, ``"kafka"``...); a model still loading makes stream events wait.

    >>> MockEvent(b"{}", trigger=MockTrigger(kind="stream")).trigger.kind
    'stream'
    """

    __slots__ = ("kind", "name")

    def __init__(self, kind: str = "", name: str = "") -> None:
        self.kind = kind
        self.name = name

    def __repr__(self) -> str:
        return f"MockTrigger(kind={self.kind!r}, name={self.name!r})"


def from_stream(event: Event) -> bool:
    """Whether the event came from a stream trigger (not HTTP, not a direct call)."""
    kind = getattr(event.trigger, "kind", None)
    return bool(kind) and kind != "http"


class Response:
    """What the server returns: body, status code, content type and headers.

    A step may return a ``Response`` to set the status or headers itself.
    """

    __slots__ = ("body", "content_type", "headers", "status_code")

    def __init__(
        self,
        body: Any = None,
        status_code: int = 200,
        content_type: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> None:
        self.body = body
        self.status_code = status_code
        self.content_type = content_type
        self.headers = headers if headers is not None else {}

    def __repr__(self) -> str:
        return f"Response(status_code={self.status_code}, body={self.body!r})"
