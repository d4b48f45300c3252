"""The Nuclio entry point: serve a graph inside a Nuclio function.

Nuclio calls ``init_context(context)`` once, then ``handler(context, event)``
(or ``handler_async``) per event. The serving spec is read as JSON from the
environment variable ``SERVING_SPEC_ENV``. MLRun-style code calls
``nuclio_init_hook(context, globals(), "serving")``, which installs the handler
as ``context.mlrun_handler``.

    # function.yaml: handler: servegraph.serving.nuclio:handler
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from servegraph.errors import ConfigError, DeployError, ServegraphError
from servegraph.serving.context import GraphContext
from servegraph.serving.event import Event, Response
from servegraph.serving.server import GraphServer

SPEC_ENV = "SERVING_SPEC_ENV"
KINDS = ("serving", "serving_v2")


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
    """Build the server from the spec and keep it in ``context.user_data.server``."""
    server = GraphServer(read_spec())
    graph_context = GraphContext(server=server)
    server.init_states(graph_context, namespace)
    context.user_data.server = server
    context.mlrun_handler = handler


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
    server: GraphServer = context.user_data.server
    try:
        response = server.run(to_event(event))
    except ServegraphError as exc:
        return _error(context, exc)
    return to_nuclio(context, response)


async def handler_async(context: Any, event: Any) -> Any:
    """Serve one Nuclio event through the graph (async handler)."""
    server: GraphServer = context.user_data.server
    try:
        response = await server.run_async(to_event(event))
    except ServegraphError as exc:
        return _error(context, exc)
    return to_nuclio(context, response)


def to_event(event: Any) -> Event:
    """A servegraph Event from a Nuclio event."""
    return Event(
        body=event.body,
        content_type=event.content_type or None,
        headers=dict(event.headers or {}),
        method=event.method or None,
        path=event.path or "/",
        id=str(event.id) if event.id is not None else None,
        trigger=event.trigger,
    )


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
    context.logger.warn(f"request failed: {exc}")  # nuclio's Logger API
    return context.Response(
        headers={},
        body=json.dumps({"error": str(exc)}),
        content_type="application/json",
        status_code=exc.status_code,
    )
