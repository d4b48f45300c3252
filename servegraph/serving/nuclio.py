"""The Nuclio entry point: serve a graph inside a Nuclio function.

Nuclio calls ``init_context(context)`` once, then ``handler(context, event)``
(or ``handler_async``) per event. The serving spec is read as JSON from the
environment variable ``SERVING_SPEC_ENV``. MLRun-style code calls
``nuclio_init_hook(context, globals(), serving_subkind)``, which installs the
handler as ``context.mlrun_handler``. The context is Nuclio's (``user_data``,
``Response``, ``logger``) or a :class:`GraphContext` (MLRun's tests pass one).

The contract matches ``servegraph serve``: ``GET /`` (through the graph),
``/v2/health/live``, ``/v2/health/ready`` and ``/v2`` answer the same bodies;
the platform's termination callback runs the graph's close hooks (batchers
drained, tracking flushed to its stream) and its drain callback (a stream
rebalance) flushes tracking; events whose strings Nuclio left undecoded
(``NUCLIO_PYTHON_DECODE_EVENT_STRINGS=false``) are decoded here.

    # function.yaml: handler: servegraph.serving.nuclio:handler
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from servegraph import __version__
from servegraph.errors import ConfigError, DeployError, NotReadyError, ServegraphError
from servegraph.serving.context import GraphContext
from servegraph.serving.event import Event, Response
from servegraph.serving.http.routes import EXTENSIONS, SERVER_NAME
from servegraph.serving.server import GraphServer, ServerState
from servegraph.serving.split import unwrap
from servegraph.serving.sync_bridge import run_coroutine

SPEC_ENV = "SERVING_SPEC_ENV"
KINDS = ("serving", "serving_v2")
#: the kind MLRun's generated code passes to ``nuclio_init_hook``
serving_subkind = "serving_v2"


def read_spec() -> dict[str, Any]:
    """The serving spec from ``SERVING_SPEC_ENV`` (ConfigError when missing or not JSON)."""
    text = os.environ.get(SPEC_ENV)
    if not text:
        raise ConfigError(f"the environment variable {SPEC_ENV} with the serving spec is not set")
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{SPEC_ENV} is not valid JSON: {exc}") from exc
    if not isinstance(spec, dict):
        raise ConfigError(f"{SPEC_ENV} must hold a JSON object. Got {type(spec).__name__}.")
    return spec


def init_context(context: Any, namespace: Mapping[str, Any] | None = None) -> None:
    """Build the server from the spec and keep it in ``context.user_data.server``
    (a GraphContext given as the context becomes the steps' context itself)."""
    spec = read_spec()
    if namespace is None and spec.get("code_module"):
        # Nuclio imported the code as the handler's module (or unpacked its archive)
        namespace = vars(importlib.import_module(str(spec["code_module"])))
    server = GraphServer(spec)
    if isinstance(context, GraphContext):
        graph_context = context
    else:
        graph_context = GraphContext(server=server, logger=getattr(context, "logger", None))
        graph_context.is_mock = bool(getattr(context, "is_mock", False))
    server.init_states(graph_context, namespace)
    user_data = getattr(context, "user_data", None)
    if user_data is not None:
        user_data.server = server
        user_data.server_loop = None  # the loop handler_async first ran on
    context.mlrun_handler = handler
    set_callbacks(context, server)


def set_callbacks(context: Any, server: GraphServer) -> None:
    """Register the platform's termination and drain callbacks (when the platform has them).

    Termination runs ``server.close()`` (every close hook: batchers drained,
    tracking flushed); drain flushes tracking and keeps serving. Both are
    coroutine functions, as Nuclio's wrapper awaits them.
    """
    platform: Any = getattr(context, "platform", None)

    async def terminate() -> None:
        context.logger.info("termination: closing the graph")
        await _run_where_started(context, server.close)

    async def drain() -> None:
        context.logger.info("drain: flushing model tracking")
        await _run_where_started(context, lambda: _flush_tracking(server))

    if callable(getattr(platform, "set_termination_callback", None)):
        platform.set_termination_callback(terminate)
    if callable(getattr(platform, "set_drain_callback", None)):
        platform.set_drain_callback(drain)


async def _flush_tracking(server: GraphServer) -> None:
    flush = getattr(server.context.tracker, "flush", None)
    if flush is not None:
        await flush()


async def _run_where_started(context: Any, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``make()`` on the loop the server's tasks live on (Nuclio's, or the sync bridge)."""
    loop = getattr(context.user_data, "server_loop", None)
    if loop is None:  # the sync handler: the tracker runs on the sync bridge's loop
        await asyncio.to_thread(run_coroutine, make())
    elif loop is asyncio.get_running_loop():
        await make()
    else:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(make(), loop))


def _server(context: Any) -> GraphServer:
    user_data = getattr(context, "user_data", None)
    server = getattr(user_data, "server", None) or getattr(context, "server", None)
    if not isinstance(server, GraphServer):
        raise ConfigError("the Nuclio context has no serving graph: call init_context first")
    return server


def nuclio_init_hook(context: Any, namespace: Mapping[str, Any], kind: str) -> None:
    """MLRun's hook: init the server with the user's globals; sets ``context.mlrun_handler``."""
    if kind not in KINDS:
        raise DeployError(
            f"The 'kind' parameter of nuclio_init_hook must be one of {KINDS}. "
            f"Got {kind!r} instead."
        )
    init_context(context, namespace)


def handler(context: Any, event: Any) -> Any:
    """Serve one Nuclio event through the graph (sync)."""
    server = _server(context)
    try:
        ours = to_event(event)
        response = builtin_response(server, ours)
        if response is None:
            response = server.run(ours)
    except ServegraphError as exc:
        return _error(context, exc)
    return to_nuclio(context, response)


async def handler_async(context: Any, event: Any) -> Any:
    """Serve one Nuclio event through the graph (async handler)."""
    server = _server(context)
    user_data = getattr(context, "user_data", None)
    if user_data is not None and getattr(user_data, "server_loop", None) is None:
        user_data.server_loop = asyncio.get_running_loop()
    try:
        ours = to_event(event)
        response = builtin_response(server, ours)
        if response is None:
            response = await server.run_async(ours)
    except ServegraphError as exc:
        return _error(context, exc)
    return to_nuclio(context, response)


def builtin_response(server: GraphServer, event: Event) -> Response | None:
    """The answer of a health or metadata path (as ``servegraph serve`` gives), else None."""
    if event.method not in ("GET", "HEAD"):
        return None
    if event.path == "/v2/health/live":
        return Response({"live": True}, content_type="application/json")
    if event.path == "/v2/health/ready":
        if server.state is ServerState.CLOSED:
            raise NotReadyError("server is stopped")
        loading = server.loading_models()
        if loading:
            raise NotReadyError(f"models not ready yet: {loading}")
        return Response({"ready": True}, content_type="application/json")
    if event.path == "/v2":
        body = {"name": SERVER_NAME, "version": __version__, "extensions": EXTENSIONS}
        return Response(body, content_type="application/json")
    return None


def _text(value: Any) -> Any:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def to_event(event: Any) -> Event:
    """A servegraph Event from a Nuclio event (byte-string fields decoded)."""
    body = event.body
    if body == b"" or body == "":  # Nuclio passes an empty body for a GET
        body = None
    headers = {_text(k): _text(v) for k, v in (event.headers or {}).items()}
    event_id = _text(event.id)
    path = _text(event.path) or "/"
    kind = _text(getattr(event.trigger, "kind", "")) or "http"
    if kind != "http" and body is not None:  # a stream record a queue step pushed
        body, path, event_id = _queued(body, path, event_id)
    return Event(
        body=body,
        content_type=_text(event.content_type) or None,
        headers=headers,
        method=_text(event.method) or None,
        path=path,
        id=str(event_id) if event_id is not None else None,
        trigger=event.trigger,
    )


def _queued(body: Any, path: str, event_id: Any) -> tuple[Any, str, Any]:
    """Body, path and event id of a queue step's record (other records are left as they are)."""
    try:
        data = json.loads(body) if isinstance(body, bytes | str) else body
    except ValueError:
        return body, path, event_id
    if not isinstance(data, dict):
        return body, path, event_id
    queued_id, inner, queued_path = unwrap(data)
    if queued_id is None:
        return body, path, event_id
    return inner, queued_path, queued_id


def to_nuclio(context: Any, response: Response) -> Any:
    """A Nuclio response from ours (dict and list bodies become JSON)."""
    body = response.body
    content_type = response.content_type
    if isinstance(body, dict | list):
        body = json.dumps(body, default=str)
        content_type = content_type or "application/json"
    return context.Response(
        headers=dict(response.headers),
        body=body if body is not None else "",
        content_type=content_type or "text/plain",
        status_code=response.status_code,
    )


def _error(context: Any, exc: ServegraphError) -> Any:
    logger = context.logger
    # logging.Logger has warning() (its warn() is deprecated), nuclio's Logger only warn()
    (getattr(logger, "warning", None) or logger.warn)(f"request failed: {exc}")
    return context.Response(
        headers={},
        body=json.dumps({"error": str(exc)}),
        content_type="application/json",
        status_code=exc.status_code,
    )
