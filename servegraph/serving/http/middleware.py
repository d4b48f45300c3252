"""The edge middleware: ServegraphError -> ``{"error": ...}`` JSON, and per-request metrics.

Statuses come from the error class (``status_code``) only here, at the edge.
aiohttp's own HTTP errors (no route, wrong method, body too large) get the
same JSON shape; anything unexpected is a 500 without a traceback in the body.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from servegraph.errors import (
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    ServegraphError,
)
from servegraph.serving.http.metrics import Metrics
from servegraph.serving.v2_protocol import parse_path

logger = logging.getLogger("servegraph.http")

METRICS_KEY = web.AppKey("servegraph_metrics", Metrics)
MODELS_KEY: web.AppKey[frozenset[str] | None] = web.AppKey("servegraph_models", object)  # type: ignore[arg-type]
MODEL_PREFIX = "/v2/models/"


def error_response(status: int, message: str) -> web.Response:
    """The one error body shape: ``{"error": "..."}``."""
    return web.json_response({"error": message}, status=status)


def _translate(exc: web.HTTPException) -> ServegraphError | None:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLargeError(f"request body is over the size limit: {exc.text}")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return MethodNotAllowedError(
            f"method {exc.method} is not allowed here (allowed: {allowed})"
        )
    if isinstance(exc, web.HTTPNotFound):
        return NotFoundError("no such path")
    return None


def _error(request: web.Request, exc: BaseException) -> web.Response:
    """The JSON error response for an exception raised while handling ``request``."""
    if isinstance(exc, ServegraphError):
        if exc.status_code >= 500:
            logger.warning("%s %s failed: %s", request.method, request.path, exc)
        return error_response(exc.status_code, str(exc))
    if isinstance(exc, web.HTTPException):
        ours = _translate(exc)
        if ours is None:
            return error_response(exc.status, exc.reason)
        return error_response(ours.status_code, f"{request.path}: {ours}")
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
    except Exception as exc:
        response = _error(request, exc)
    if request.path != "/metrics":
        request.app[METRICS_KEY].observe(
            model_label(request.path, response.status, request.app[MODELS_KEY]),
            response.status,
            time.perf_counter() - start,
        )
    return response
