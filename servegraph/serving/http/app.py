"""The application factory and the blocking runner.

>>> app = create_app(server, max_body_size=8 << 20)  # doctest: +SKIP
>>> run_app(server, port=8080, shutdown_timeout=30)  # doctest: +SKIP

Lifecycle: READY once the app starts; on shutdown (SIGTERM/SIGINT under
:func:`run_app`, or ``runner.cleanup()``) aiohttp stops listening, the state
turns DRAINING (``/v2/health/ready`` answers 503), in-flight requests get
``shutdown_timeout`` seconds to finish, then ``server.close()`` runs the
graph's close hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from servegraph.errors import ConfigError
from servegraph.serving.http.metrics import instrument_steps
from servegraph.serving.http.metrics_shared import WorkerMetrics, metrics_from_env
from servegraph.serving.http.middleware import (
    METRICS_KEY,
    MODELS_KEY,
    auth_middleware,
    edge_middleware,
    model_names,
)
from servegraph.serving.http.routes import add_routes
from servegraph.serving.http.state import (
    BODY_TIMEOUT_KEY,
    DEFAULT_HEADER_TIMEOUT,
    LIFECYCLE_KEY,
    MAX_BODY_KEY,
    SERVER_KEY,
    GraphServerLike,
    Lifecycle,
    ServerState,
)

logger = logging.getLogger("servegraph.http")

DEFAULT_MAX_BODY = 16 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0
METRICS_DUMP_SECONDS = 0.5  # how stale another worker's counters may be in /metrics


async def _lifespan(app: web.Application) -> AsyncIterator[None]:
    lifecycle = app[LIFECYCLE_KEY]
    start = getattr(app[SERVER_KEY], "start", None)
    if start is not None:
        try:
            await start()  # e.g. the model-tracking sink, on this loop, before the first request
        except BaseException:
            lifecycle.state = ServerState.STOPPED
            await app[SERVER_KEY].close()  # the models and steps are up: run their close hooks
            raise
    lifecycle.state = ServerState.READY
    yield
    lifecycle.state = ServerState.STOPPED
    await app[SERVER_KEY].close()


async def _share_metrics(app: web.Application) -> AsyncIterator[None]:
    """A worker of ``serve --workers``: write its metrics for the others' scrapes."""
    metrics = app[METRICS_KEY]
    if not isinstance(metrics, WorkerMetrics):
        yield
        return

    async def dump_every(seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await asyncio.to_thread(metrics.dump)

    metrics.dump()
    task = asyncio.create_task(dump_every(METRICS_DUMP_SECONDS), name="servegraph-metrics-dump")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    metrics.dump()


async def _drain(app: web.Application) -> None:
    app[LIFECYCLE_KEY].state = ServerState.DRAINING


def create_app(
    server: GraphServerLike,
    *,
    max_body_size: int = DEFAULT_MAX_BODY,
    token: str | None = None,
    protect_metrics: bool = False,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> web.Application:
    """Build the aiohttp application serving ``server`` (an initialised GraphServer).

    ``max_body_size`` (bytes) bounds request bodies; a bigger one gets a 400.
    With ``token``, every path but ``/v2/health/live`` (and ``/metrics``, unless
    ``protect_metrics``) needs ``Authorization: Bearer <token>``, else 401.
    A body that takes over ``body_timeout`` seconds to arrive gets a 408.
    """
    if not isinstance(max_body_size, int) or max_body_size < 1:
        raise ConfigError(
            f"The 'max_body_size' parameter of create_app must be a positive int. "
            f"Got {max_body_size!r} instead."
        )
    middlewares: list[Middleware] = [edge_middleware]
    if token:
        middlewares.append(auth_middleware(token, protect_metrics))
    app = web.Application(client_max_size=max_body_size, middlewares=middlewares)
    app[SERVER_KEY] = server
    app[LIFECYCLE_KEY] = Lifecycle()
    app[METRICS_KEY] = metrics = metrics_from_env()
    instrument_steps(getattr(server, "plan", None), metrics)
    if getattr(server, "plan", None) is not None and hasattr(server, "repository"):
        repository = server.repository  # wraps the routes: every version is counted
        metrics.versions = lambda: repository.stats
    app[MODELS_KEY] = model_names(server)
    app[MAX_BODY_KEY] = max_body_size
    app[BODY_TIMEOUT_KEY] = float(body_timeout)
    add_routes(app)
    app.cleanup_ctx.append(_lifespan)
    app.cleanup_ctx.append(_share_metrics)
    app.on_shutdown.append(_drain)
    return app


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop event loop when uvloop is installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run_app(
    server: GraphServerLike,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    shutdown_timeout: float = 30.0,
    max_body_size: int = DEFAULT_MAX_BODY,
    access_log: bool = False,
    token: str | None = None,
    protect_metrics: bool = False,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    **kwargs: Any,
) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully (blocking).

    Binds loopback by default: pass ``host="0.0.0.0"`` to accept other machines.
    A connection that takes over ``header_timeout`` seconds to send a request head
    (or stays idle that long between requests) is closed: aiohttp's keep-alive
    timer, which also runs from the moment a connection opens.
    """
    if header_timeout <= 0:
        raise ConfigError(f"The header timeout must be a positive number. Got {header_timeout!r}.")
    app = create_app(
        server, max_body_size=max_body_size, token=token, protect_metrics=protect_metrics
    )
    web.run_app(
        app,
        host=host,
        port=port,
        shutdown_timeout=shutdown_timeout,
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
        loop=new_event_loop(),
        keepalive_timeout=header_timeout,
        **kwargs,
    )
