"""The edge middleware: ServegraphError -> ``{"error": ...}`` JSON, and per-request metrics.

Statuses come from the error class (``status_code``) only here, at the edge.
aiohttp's own HTTP errors (no route, wrong method, body too large) get the
same JSON shape; anything unexpected is a 500 without a traceback in the body.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from servegraph.errors import (
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    ServegraphError,
    UnauthorizedError,
)
from servegraph.serving.http.metrics import Metrics
from servegraph.serving.v2_protocol import parse_path

logger = logging.getLogger("servegraph.http")

METRICS_KEY = web.AppKey("servegraph_metrics", Metrics)
MODELS_KEY: web.AppKey[frozenset[str] | None] = web.AppKey("servegraph_models", object)  # type: ignore[arg-type]
MODEL_PREFIX = "/v2/models/"
CLIENT_CLOSED = 499  # nginx's status for a client that closed the connection first
OPEN_PATHS = frozenset({"/v2/health/live"})  # liveness: probes carry no token


def auth_middleware(token: str, protect_metrics: bool = False) -> Middleware:
    """Require ``Authorization: Bearer <token>`` on every path but liveness (and
    ``/metrics`` unless ``protect_metrics``); compared in constant time."""
    expected = f"Bearer {token}".encode()
    open_paths = OPEN_PATHS if protect_metrics else OPEN_PATHS | {"/metrics"}

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in open_paths:
            given = request.headers.get("Authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, expected):
                raise UnauthorizedError("a valid 'Authorization: Bearer <token>' is required")
        return await handler(request)

    return check_token


def error_response(status: int, message: str) -> web.Response:
    """The one error body shape: ``{"error": "..."}``."""
    return web.json_response({"error": message}, status=status)


def _translate(exc: web.HTTPException) -> ServegraphError | None:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLargeError(f"request body is over the size limit: {exc.text}")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return MethodNotAllowedError(
            f"method {exc.method} is not allowed here (allowed: {allowed})",
            tuple(sorted(exc.allowed_methods)),
        )
    if isinstance(exc, web.HTTPNotFound):
        return NotFoundError("no such path")
    return None


def _with_headers(response: web.Response, exc: ServegraphError) -> web.Response:
    if isinstance(exc, MethodNotAllowedError) and exc.allowed:
        response.headers["Allow"] = ", ".join(exc.allowed)
    elif isinstance(exc, UnauthorizedError):
        response.headers["WWW-Authenticate"] = 'Bearer realm="servegraph"'
    return response


def _error(request: web.Request, exc: BaseException) -> web.Response:
    """The JSON error response for an exception raised while handling ``request``."""
    if isinstance(exc, ServegraphError):
        if exc.status_code >= 500:
            logger.warning("%s %s failed: %s", request.method, request.path, exc)
        return _with_headers(error_response(exc.status_code, str(exc)), exc)
    if isinstance(exc, web.HTTPException):
        ours = _translate(exc)
        if ours is None:
            return error_response(exc.status, exc.reason)
        return _with_headers(error_response(ours.status_code, f"{request.path}: {ours}"), ours)
    logger.error("unexpected error serving %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, "internal server error")


def model_label(path: str, status: int, known: frozenset[str] | None = None) -> str:
    """The ``model`` label of a request: the model name, never a client's unknown name.

    With ``known`` (the names the server serves), any other name gives ``""``: a
    405 or 400 comes before routing, and client-chosen labels would grow the
    metrics registry without bound.
    """
    if not path.startswith(MODEL_PREFIX) or status == 404:
        return ""
    name = str(parse_path(path).name or "")
    if known is not None and name not in known:
        return ""
    return name


def model_names(server: Any) -> frozenset[str] | None:
    """The names of the models (and routers) in ``server``'s plan; None without a plan."""
    plan = getattr(server, "plan", None)
    if plan is None:
        return None
    names: set[str] = set()
    for obj in plan.objects():
        name = getattr(obj, "name", None)
        if isinstance(name, str):
            names.add(name)
        for key in getattr(obj, "routes", None) or {}:
            names.add(str(key).split(":")[0])
    return frozenset(names)


@web.middleware
async def edge_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors into JSON responses (status from their class), then count and time."""
    start = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _error(request, exc)
    except (ConnectionError, asyncio.CancelledError):  # the client went away: not our 500
        request.app[METRICS_KEY].observe("", CLIENT_CLOSED, time.perf_counter() - start)
        raise
    except Exception as exc:
        response = _error(request, exc)
    if request.path != "/metrics":
        request.app[METRICS_KEY].observe(
            model_label(request.path, response.status, request.app[MODELS_KEY]),
            response.status,
            time.perf_counter() - start,
        )
    return response
