"""Lifecycle state of the HTTP server and the typed keys of its app state."""

from __future__ import annotations

import enum
from typing import Any, Protocol

from aiohttp import web

from servegraph.serving.event import Event, Response


class ServerState(enum.Enum):
    """Where the server is in its life: only READY serves model traffic."""

    STARTING = "starting"
    READY = "ready"
    DRAINING = "draining"
    STOPPED = "stopped"


class GraphServerLike(Protocol):
    """What the HTTP edge needs of a GraphServer (see servegraph.serving.server)."""

    async def run_async(self, event: Event) -> Response: ...

    async def close(self) -> None: ...


class Lifecycle:
    """Mutable server state shared by the handlers of one app."""

    def __init__(self) -> None:
        self.state = ServerState.STARTING
        self.in_flight = 0

    @property
    def ready(self) -> bool:
        return self.state is ServerState.READY


SERVER_KEY: web.AppKey[Any] = web.AppKey("servegraph_server", object)
LIFECYCLE_KEY = web.AppKey("servegraph_lifecycle", Lifecycle)
MAX_BODY_KEY = web.AppKey("servegraph_max_body", int)
BODY_TIMEOUT_KEY = web.AppKey("servegraph_body_timeout", float)
# a connection that has not sent a whole request head this long after it opened (or
# after its last answer) is closed: slow-header clients cannot hold connections forever
DEFAULT_HEADER_TIMEOUT = 30.0
