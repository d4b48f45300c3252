"""Request handlers: OIP health and server metadata, metrics, OpenAPI, and the graph.

Every other path goes to the graph (``GraphServer.run_async``): the model
router answers ``/v2/models/...`` (metadata, ready, infer), a flow answers
whatever paths and methods its steps accept.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from servegraph import __version__
from servegraph.errors import (
    BadRequestError,
    MethodNotAllowedError,
    NotReadyError,
    PayloadTooLargeError,
    RequestTimeoutError,
)
from servegraph.serving.event import Event, Response
from servegraph.serving.http.middleware import METRICS_KEY
from servegraph.serving.http.openapi import openapi_document
from servegraph.serving.http.repository import add_repository_routes
from servegraph.serving.http.state import (
    BODY_TIMEOUT_KEY,
    LIFECYCLE_KEY,
    MAX_BODY_KEY,
    SERVER_KEY,
)
from servegraph.serving.json_body import gc_paused, parse_json_yielding
from servegraph.serving.v2_protocol import BINARY_HEADER, parse_path

SERVER_NAME = "servegraph"
YIELDING_PARSE_BYTES = 1 << 20  # JSON bodies this big are parsed giving the loop back
EXTENSIONS = ["binary_tensor_data", "model_repository"]
# OIP operations and the methods they accept (others get 405)
OPERATION_METHODS = {
    "": {"GET", "HEAD", "POST"},  # metadata (GET) or MLRun's infer on the model path (POST)
    "infer": {"POST"},
    "predict": {"POST"},
    "explain": {"POST"},
    "ready": {"GET", "HEAD"},
}
# built-in paths, GET only (the catch-all would otherwise hand them to the graph)
BUILTIN_PATHS = {"/v2", "/v2/health/live", "/v2/health/ready", "/metrics", "/openapi.json"}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"))


def dump_json(body: Any) -> bytes:
    """Encode a response body as JSON (numpy arrays and scalars included)."""
    return _ENCODER.encode(body).encode()


def to_http(response: Response) -> web.Response:
    """Convert the graph's Response, keeping its content type (JSON, text or bytes)."""
    body = response.body
    headers = {str(k): str(v) for k, v in (response.headers or {}).items()}
    content_type = response.content_type
    if body is None:
        data = b""
    elif isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
        content_type = content_type or "application/octet-stream"
    elif isinstance(body, str):
        data = body.encode()
        content_type = content_type or "text/plain; charset=utf-8"
    else:
        data = dump_json(body)
        content_type = content_type or "application/json"
    if content_type:
        headers["Content-Type"] = content_type
    return web.Response(body=data, status=response.status_code, headers=headers)


async def live(request: web.Request) -> web.Response:
    """GET /v2/health/live"""
    return web.json_response({"live": True})


async def ready(request: web.Request) -> web.Response:
    """GET /v2/health/ready: 200 when serving, 503 while starting or draining."""
    lifecycle = request.app[LIFECYCLE_KEY]
    if not lifecycle.ready:
        raise NotReadyError(f"server is {lifecycle.state.value}")
    loading_models = getattr(request.app[SERVER_KEY], "loading_models", None)
    loading = loading_models() if loading_models is not None else []
    if loading:  # models loading in the background (load_mode="async")
        raise NotReadyError(f"models not ready yet: {loading}")
    return web.json_response({"ready": True})


async def server_metadata(request: web.Request) -> web.Response:
    """GET /v2"""
    return web.json_response(
        {"name": SERVER_NAME, "version": __version__, "extensions": EXTENSIONS}
    )


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics (Prometheus text format)."""
    registry = request.app[METRICS_KEY]
    return web.Response(body=registry.render(), headers={"Content-Type": registry.content_type})


async def openapi(request: web.Request) -> web.Response:
    """GET /openapi.json"""
    return web.json_response(openapi_document(__version__))


def event_headers(headers: Any) -> dict[str, str]:
    """The request headers as a dict; the binary-tensor header under its canonical name."""
    result = dict(headers)
    length = headers.get(BINARY_HEADER)  # case-insensitive lookup
    if length is not None:
        result[BINARY_HEADER] = length
    return result


def _is_json(body: bytes, content_type: str | None, headers: Any) -> bool:
    if BINARY_HEADER in headers:
        return False
    if content_type in ("application/json", "text/json"):
        return True
    return content_type is None and body.lstrip()[:1] in (b"{", b"[")


def _check_method(request: web.Request) -> None:
    path, method = request.path, request.method
    if path in BUILTIN_PATHS:
        raise MethodNotAllowedError(f"{path} accepts GET only. Got {method}.", ("GET",))
    if path.startswith("/v2/models/"):
        allowed = OPERATION_METHODS.get(parse_path(path).operation)
        if allowed is not None and method not in allowed:
            raise MethodNotAllowedError(
                f"{path} accepts {', '.join(sorted(allowed))} only. Got {method}.",
                tuple(sorted(allowed)),
            )


async def graph(request: web.Request) -> web.Response:
    """Any other path and method: run the event through the graph."""
    lifecycle = request.app[LIFECYCLE_KEY]
    if not lifecycle.ready:
        raise NotReadyError(f"server is {lifecycle.state.value}")
    _check_method(request)
    limit = request.app[MAX_BODY_KEY]
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(
            f"request body of {request.content_length} bytes is over the limit of {limit} bytes"
        )
    timeout = request.app[BODY_TIMEOUT_KEY]
    try:
        body = await asyncio.wait_for(request.read(), timeout)
    except RequestPayloadError as exc:  # e.g. a Content-Encoding the body does not match
        raise BadRequestError(f"The request body cannot be read: {exc.__cause__ or exc}") from exc
    except TimeoutError:
        raise RequestTimeoutError(f"The request body did not arrive within {timeout:g}s") from None
    content_type = request.content_type if body and "Content-Type" in request.headers else None
    if len(body) >= YIELDING_PARSE_BYTES and _is_json(body, content_type, request.headers):
        with gc_paused():  # until the request ends and its body is freed
            parsed = await parse_json_yielding(body)  # never holds the loop for long
            del body
            response = await _run(request, parsed, content_type)
            del parsed  # freed by reference counting, before the collector is back
        return response
    return await _run(request, body or None, content_type)


async def _run(request: web.Request, parsed: Any, content_type: str | None) -> web.Response:
    lifecycle = request.app[LIFECYCLE_KEY]
    event = Event(
        body=parsed,
        content_type=content_type,
        headers=event_headers(request.headers),
        method=request.method,
        path=request.path,
        id=request.headers.get("x-request-id"),
    )
    lifecycle.in_flight += 1
    try:
        response = await request.app[SERVER_KEY].run_async(event)
    finally:
        lifecycle.in_flight -= 1
    return to_http(response)


def add_routes(app: web.Application) -> None:
    add_repository_routes(app)
    app.router.add_get("/v2/health/live", live)
    app.router.add_get("/v2/health/ready", ready)
    app.router.add_get("/v2", server_metadata)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_route("*", "/{tail:.*}", graph)
