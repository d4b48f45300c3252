"""The dashboard's aiohttp application: the JSON API, its OpenAPI document, the pages."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from servegraph.config import Config, get_config
from servegraph.errors import ServegraphError
from servegraph.ui import api_actions, api_catalog, api_features, api_monitoring, api_runs
from servegraph.ui.base import STATE, Handler, Route, UIState, check_token, reply
from servegraph.ui.live import LiveTraffic

STATIC = Path(__file__).parent / "static"
logger = logging.getLogger(__name__)

ROUTES: list[Route] = [
    *api_runs.ROUTES,
    *api_catalog.ROUTES,
    *api_monitoring.ROUTES,
    *api_features.ROUTES,
    *api_actions.ROUTES,
]


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Our errors become ``{"error": ...}`` with their status; never a traceback."""
    try:
        return await handler(request)
    except ServegraphError as exc:
        return reply({"error": str(exc)}, status=exc.status_code)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        return reply({"error": exc.reason}, status=exc.status)
    except Exception as exc:
        logger.exception("dashboard request %s failed", request.path)
        return reply({"error": f"{type(exc).__name__}: {exc}"}, status=500)


def _guarded(route: Route) -> Handler:
    if not route.action:
        return route.handler

    async def handler(request: web.Request) -> web.StreamResponse:
        check_token(request)
        return await route.handler(request)

    return handler


def openapi(routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI 3 document of the API routes."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": route.handler.__name__,
            "parameters": [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.where == "path",
                    "description": p.description,
                    "schema": {"type": p.type},
                }
                for p in route.params
            ],
            "responses": {
                "200": {"description": "JSON"},
                "400": {"description": 'a bad parameter: {"error": ...}'},
                "404": {"description": 'not found: {"error": ...}'},
            },
        }
        if route.action:
            operation["security"] = [{"token": []}]
            operation["responses"]["401"] = {"description": "the token is missing or wrong"}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "servegraph dashboard API", "version": "1"},
        "paths": paths,
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }


async def _openapi(request: web.Request) -> web.Response:
    return reply(openapi(ROUTES))


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def _info(request: web.Request) -> web.Response:
    st = request.app[STATE]
    return reply(
        {
            "home": str(st.config.home),
            "token_required": bool(st.token),
            "database": st.db.engine.url.render_as_string(hide_password=True),
        }
    )


def make_app(
    config: Config | None = None,
    token: str | None = None,
    monitoring_paths: Sequence[str | Path] = (),
    live_stream: str | None = None,
) -> web.Application:
    """The dashboard over ``config``'s stores (default ``get_config()`` now).

    ``token``: when set, actions (promote a model version, stop a run) need
    ``Authorization: Bearer <token>``. ``monitoring_paths``: output paths of
    monitoring jobs beside ``$SERVEGRAPH_HOME/monitoring`` (for the histograms).
    ``live_stream``: the tracking stream to follow for live traffic (none: off).
    """
    app = web.Application(middlewares=[errors_as_json])
    live = LiveTraffic(live_stream) if live_stream else None
    paths = [Path(p) for p in monitoring_paths]
    app[STATE] = UIState(config or get_config(), token or None, paths, live)
    if live is not None:
        app.cleanup_ctx.append(live.task)
    app.router.add_get("/", _index)
    app.router.add_get("/api/openapi.json", _openapi)
    app.router.add_get("/api/info", _info)
    for route in ROUTES:
        app.router.add_route(route.method, route.path, _guarded(route))
    app.router.add_static("/static/", STATIC, append_version=False)
    return app
