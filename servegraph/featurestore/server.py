"""The HTTP feature server: online feature vectors for any language.

``servegraph features serve --port 8080`` runs :func:`make_app`::

    POST /v1/features/online   {"vector": "churn", "entities": [{"customer_id": 7}],
                                "impute_policy": {"*": "$mean"}}   (impute_policy optional)
      -> {"vector": "churn", "columns": [...], "results": [{"amount_sum_1h": 12.5, ...}]}
    GET  /v1/feature-vectors   -> {"feature_vectors": [{"name", "project", "tag", "uri", ...}]}
    GET  /openapi.json         -> this API's OpenAPI 3 document

Errors are ``{"error": "..."}``: 400 for a bad body (not JSON, missing or
mistyped fields, an entity row without its key), 404 for an unknown vector.
An online feature service is opened per (vector, impute policy) on first use
and kept until the server stops.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from servegraph import __version__
from servegraph.errors import FeatureSetNotFoundError, FeatureStoreError, OnlineStoreError

from .catalog import Catalog
from .online import OnlineFeatureService
from .vector import KIND, get_feature_vector

logger = logging.getLogger("servegraph.featurestore.server")

Services = dict[tuple[str, str], OnlineFeatureService]
SERVICES_KEY = web.AppKey("featurestore_services", dict)
POLICY_KEY = web.AppKey("featurestore_impute_policy", dict)
_SCALARS = (str, int, float, bool)


class BadRequest(Exception):
    """A request the server refuses with 400."""


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Errors become ``{"error": ...}`` with their status, here only."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return _error(400, str(exc))
    except FeatureSetNotFoundError as exc:
        return _error(404, str(exc))
    except OnlineStoreError as exc:
        logger.warning("%s %s failed: %s", request.method, request.path, exc)
        return _error(500, str(exc))
    except FeatureStoreError as exc:  # a missing entity key, an impute rule naming no feature
        return _error(400, str(exc))
    except web.HTTPException as exc:
        if isinstance(exc, web.HTTPNotFound):
            return _error(404, f"{request.path}: no such path")
        if isinstance(exc, web.HTTPMethodNotAllowed):
            return _error(405, f"method {request.method} is not allowed on {request.path}")
        return _error(exc.status, exc.reason)
    except Exception as exc:  # never a traceback to the client
        logger.exception("%s %s failed", request.method, request.path)
        return _error(500, f"{request.path}: {type(exc).__name__}: {exc}")


def _entity_rows(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise BadRequest(
            f"'entities' must be a non-empty list of entity rows. Got {json.dumps(value)}."
        )
    for row in value:
        values = list(row.values()) if isinstance(row, dict) else [row]
        bad = [v for v in values if not isinstance(v, _SCALARS)]
        if bad:
            raise BadRequest(
                f"entity values must be strings or numbers; entity row {json.dumps(row)} has "
                f"{json.dumps(bad[0])}."
            )
    return value


async def online_features(request: web.Request) -> web.Response:
    """POST /v1/features/online"""
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadRequest(f"the request body must be JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object with 'vector' and 'entities'.")
    vector = body.get("vector")
    if not isinstance(vector, str) or not vector:
        raise BadRequest(f"'vector' must be a feature vector name. Got {json.dumps(vector)}.")
    entities = _entity_rows(body.get("entities"))
    policy = body.get("impute_policy", request.app[POLICY_KEY])
    if not isinstance(policy, dict):
        raise BadRequest(f"'impute_policy' must be an object. Got {json.dumps(policy)}.")
    as_list = body.get("as_list", False)
    if not isinstance(as_list, bool):
        raise BadRequest(f"'as_list' must be true or false. Got {json.dumps(as_list)}.")
    services: Services = request.app[SERVICES_KEY]
    key = (vector, json.dumps(policy, sort_keys=True))
    service = services.get(key)
    if service is None:
        service = services[key] = OnlineFeatureService(get_feature_vector(vector), policy)
    results = await service.aget(entities, as_list=as_list)
    return web.json_response({"vector": vector, "columns": service.columns, "results": results})


async def feature_vectors(request: web.Request) -> web.Response:
    """GET /v1/feature-vectors"""
    project = request.query.get("project")
    out = []
    for proj, name, tag in sorted(Catalog().list(KIND, project)):
        vector = get_feature_vector(f"{name}:{tag}", project=proj)
        out.append(
            {
                "name": name,
                "project": proj,
                "tag": tag,
                "uri": vector.uri,
                "features": vector.features,
                "description": vector.description,
            }
        )
    return web.json_response({"feature_vectors": out})


async def openapi(request: web.Request) -> web.Response:
    """GET /openapi.json"""
    return web.json_response(openapi_document())


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3 document of the feature server."""
    error = {
        "description": "error",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                }
            }
        },
    }
    scalar = {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}
    request_schema = {
        "type": "object",
        "required": ["vector", "entities"],
        "properties": {
            "vector": {"type": "string", "description": "feature vector name, name:tag or URI"},
            "entities": {
                "type": "array",
                "minItems": 1,
                "items": {"oneOf": [{"type": "object", "additionalProperties": scalar}, scalar]},
            },
            "impute_policy": {"type": "object", "description": '{"*": "$mean", "f": 0}'},
            "as_list": {"type": "boolean", "default": False},
        },
    }

    def ok(schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": "ok", "content": {"application/json": {"schema": schema}}}

    return {
        "openapi": "3.0.3",
        "info": {"title": "servegraph feature server", "version": __version__},
        "paths": {
            "/v1/features/online": {
                "post": {
                    "summary": "Online feature values of entities (impute policy applied)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request_schema}},
                    },
                    "responses": {
                        "200": ok(
                            {
                                "type": "object",
                                "properties": {
                                    "vector": {"type": "string"},
                                    "columns": {"type": "array", "items": {"type": "string"}},
                                    "results": {"type": "array"},
                                },
                            }
                        ),
                        "400": error,
                        "404": error,
                    },
                }
            },
            "/v1/feature-vectors": {
                "get": {
                    "summary": "The feature vectors in the catalog",
                    "parameters": [
                        {"name": "project", "in": "query", "schema": {"type": "string"}}
                    ],
                    "responses": {"200": ok({"type": "object"})},
                }
            },
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": ok({})}}},
        },
    }


async def _services(app: web.Application) -> AsyncIterator[None]:
    yield
    for service in app[SERVICES_KEY].values():
        await service.aclose()
    app[SERVICES_KEY].clear()


def make_app(impute_policy: dict[str, Any] | None = None) -> web.Application:
    """The feature server's aiohttp application (``impute_policy``: the default policy)."""
    app = web.Application(middlewares=[_errors])
    app[SERVICES_KEY] = {}
    app[POLICY_KEY] = dict(impute_policy or {})
    app.cleanup_ctx.append(_services)
    app.router.add_post("/v1/features/online", online_features)
    app.router.add_get("/v1/feature-vectors", feature_vectors)
    app.router.add_get("/openapi.json", openapi)
    return app
