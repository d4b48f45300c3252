"""The V2 model-repository extension (as Triton and KServe define it), plus traffic weights.

    POST /v2/repository/index                 -> [{"name", "version", "state", ...}]
    POST /v2/repository/models/{name}/load    {"parameters": {"model_path": ..., "version": ...}}
    POST /v2/repository/models/{name}/unload  {"parameters": {"version": ...}}
    POST /v2/repository/models/{name}/weights {"weights": {"v1": 90, "v2": 10}}
    GET  /v2/repository/history               -> what was loaded, promoted, rolled back

``load`` builds the version in a worker thread while the server keeps
serving, swaps it in, and answers once the previous version has drained and
closed. Optional load parameters: ``model_path``, ``version``, ``class_name``
(for a new name), ``default`` (bool), ``keep_previous`` (bool),
``canary_weight`` (percent), ``min_requests`` and ``latency_tolerance`` (the
canary policy). ``weights`` names a SplitRouter (route keys) or a model (its
versions).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from servegraph.errors import BadRequestError, GraphError, NotFoundError
from servegraph.serving.canary import CanaryPolicy
from servegraph.serving.http.state import SERVER_KEY

PREFIX = "/v2/repository"
_LOAD_PARAMETERS = {
    "model_path", "version", "class_name", "default", "keep_previous",
    "canary_weight", "min_requests", "latency_tolerance",
}  # fmt: skip


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequestError(f"The request body must be JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequestError(f"The request body must be a JSON object. Got {type(body).__name__}.")
    return body


def _parameters(body: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise BadRequestError(f"'parameters' must be an object. Got {type(params).__name__}.")
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequestError(f"unknown parameters {unknown}; known: {sorted(allowed)}")
    return params


def _repository(request: web.Request) -> Any:
    server = request.app[SERVER_KEY]
    if getattr(server, "plan", None) is None:
        raise NotFoundError("this server has no model repository")
    return server.repository


async def index(request: web.Request) -> web.Response:
    """POST /v2/repository/index"""
    await _body(request)
    return web.json_response(_repository(request).index())


async def load(request: web.Request) -> web.Response:
    """POST /v2/repository/models/{name}/load"""
    params = _parameters(await _body(request), _LOAD_PARAMETERS)
    canary = None
    if "canary_weight" in params:
        try:
            canary = CanaryPolicy(
                weight=params.pop("canary_weight"),
                min_requests=params.pop("min_requests", 100),
                latency_tolerance=params.pop("latency_tolerance", 1.5),
            )
        except GraphError as exc:
            raise BadRequestError(str(exc)) from exc
    elif "min_requests" in params or "latency_tolerance" in params:
        raise BadRequestError("'min_requests' and 'latency_tolerance' need 'canary_weight'")
    for flag in ("default", "keep_previous"):
        if flag in params and not isinstance(params[flag], bool):
            raise BadRequestError(f"'{flag}' must be true or false. Got {params[flag]!r}.")
    repo = _repository(request)
    result = await repo.load_async(request.match_info["name"], canary=canary, **params)
    return web.json_response(result)


async def unload(request: web.Request) -> web.Response:
    """POST /v2/repository/models/{name}/unload"""
    params = _parameters(await _body(request), {"version"})
    version = params.get("version")
    result = await _repository(request).unload_async(
        request.match_info["name"], str(version) if version else None
    )
    return web.json_response(result)


async def weights(request: web.Request) -> web.Response:
    """POST /v2/repository/models/{name}/weights"""
    body = await _body(request)
    name = request.match_info["name"]
    try:
        _repository(request).set_weights(name, body.get("weights"))
    except GraphError as exc:  # bad weights: the request's fault
        raise BadRequestError(str(exc)) from exc
    return web.json_response({"name": name, "weights": body.get("weights")})


async def history(request: web.Request) -> web.Response:
    """GET /v2/repository/history"""
    return web.json_response(_repository(request).history)


def add_repository_routes(app: web.Application) -> None:
    """Register the repository routes (before the graph's catch-all route)."""
    app.router.add_post(f"{PREFIX}/index", index)
    app.router.add_post(PREFIX + "/models/{name}/load", load)
    app.router.add_post(PREFIX + "/models/{name}/unload", unload)
    app.router.add_post(PREFIX + "/models/{name}/weights", weights)
    app.router.add_get(f"{PREFIX}/history", history)
