"""What every API module of the dashboard shares: the app state, routes, JSON replies."""

from __future__ import annotations

import asyncio
import functools
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
from aiohttp import web

from servegraph.config import Config
from servegraph.errors import BadRequestError, UnauthorizedError
from servegraph.storage.rundb import RunDB, get_run_db
from servegraph.ui.live import LiveTraffic

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_T = TypeVar("_T")

MAX_PAGE = 500


@dataclass
class UIState:
    """The settings a dashboard was started with; stores are opened from them."""

    config: Config
    token: str | None = None
    monitoring_paths: list[Path] = field(default_factory=list)
    live: LiveTraffic | None = None

    @functools.cached_property
    def db(self) -> RunDB:
        return get_run_db(self.config.dbpath)

    @property
    def dbpath(self) -> str:
        return self.config.dbpath

    def data_roots(self) -> list[Path]:
        """Where monitoring jobs keep logged windows (``<output>/data``), default first."""
        roots = [self.config.home / "monitoring", *self.monitoring_paths]
        return [r / "data" for r in dict.fromkeys(roots)]


STATE = web.AppKey("servegraph_ui_state", UIState)


@dataclass(frozen=True)
class Param:
    """A query or path parameter, for the OpenAPI document."""

    name: str
    where: str = "query"
    description: str = ""
    type: str = "string"


@dataclass(frozen=True)
class Route:
    """One API route: method, path, handler and its description."""

    method: str
    path: str
    handler: Handler
    summary: str
    params: tuple[Param, ...] = ()
    action: bool = False  # changes state: needs the token when one is set


def state(request: web.Request) -> UIState:
    return request.app[STATE]


async def blocking(fn: Callable[[], _T]) -> _T:
    """Run a store call in a thread so the event loop keeps serving."""
    return await asyncio.to_thread(fn)


def dumps(data: Any) -> str:
    """JSON text; NaN and infinities become null, unknown objects their ``str``."""
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def int_param(request: web.Request, name: str, default: int, high: int | None = None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(f"The {name!r} parameter must be an int. Got {raw!r}.") from None
    if value < 0 or (high is not None and value > high):
        limit = f" and at most {high}" if high is not None else ""
        raise BadRequestError(f"The {name!r} parameter must be >= 0{limit}. Got {value}.")
    return value


def check_token(request: web.Request) -> None:
    """Raise 401 unless the request carries the token (when the dashboard has one)."""
    token = state(request).token
    if not token:
        return
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    given = given or request.headers.get("X-Servegraph-Token", "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise UnauthorizedError("this action needs the dashboard's token (Authorization: Bearer)")
