"""The OpenAPI 3 document of the HTTP server's endpoints (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_MODEL = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_VERSION = {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}


def _json(schema: str, description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _ERROR for code in codes}


def _model_paths(prefix: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        prefix: {
            "get": {
                "summary": "Model metadata",
                "parameters": params,
                "responses": {"200": _json("ModelMetadata", "Metadata"), **_errors(404)},
            }
        },
        f"{prefix}/ready": {
            "get": {
                "summary": "Model readiness",
                "parameters": params,
                "responses": {"200": {"description": "Ready"}, **_errors(404, 503)},
            }
        },
        f"{prefix}/infer": {
            "post": {
                "summary": "Inference (JSON tensors, binary tensor extension, or {'inputs': rows})",
                "parameters": [
                    *params,
                    {
                        "name": "Inference-Header-Content-Length",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "integer"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/InferRequest"}
                        },
                        "application/octet-stream": {"schema": {"type": "string"}},
                    },
                },
                "responses": {
                    "200": _json("InferResponse", "Outputs"),
                    **_errors(400, 404, 405, 500, 503, 504),
                },
            }
        },
    }


_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype"],
    "properties": {
        "name": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "datatype": {
            "type": "string",
            "enum": [
                "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
                "INT64", "FP16", "FP32", "FP64", "BYTES",
            ],
        },
        "parameters": {"type": "object"},
        "data": {"type": "array"},
    },
}  # fmt: skip

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
    "Tensor": _TENSOR,
    "InferRequest": {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "parameters": {"type": "object"},
            "inputs": {"type": "array", "items": {}},
            "outputs": {"type": "array", "items": {"type": "object"}},
        },
    },
    "InferResponse": {
        "type": "object",
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "outputs": {"type": "array", "items": {}},
        },
    },
    "ModelMetadata": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": {"$ref": "#/components/schemas/Tensor"}},
            "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/Tensor"}},
        },
    },
}


def _repository_paths() -> dict[str, Any]:
    """The model-repository extension (servegraph.serving.http.repository)."""
    body = {"content": {"application/json": {"schema": {"type": "object"}}}}
    ok = {"200": {"description": "OK"}}

    def post(summary: str, codes: tuple[int, ...], params: list[Any]) -> dict[str, Any]:
        op = {"summary": summary, "requestBody": body, "responses": {**ok, **_errors(*codes)}}
        return {"post": {**op, "parameters": params} if params else op}

    prefix = "/v2/repository"
    return {
        f"{prefix}/index": post("Loaded model versions", (), []),
        prefix + "/models/{name}/load": post(
            "Load a model version live", (400, 404, 500), [_MODEL]
        ),
        prefix + "/models/{name}/unload": post("Unload a model (version)", (400, 404), [_MODEL]),
        prefix + "/models/{name}/weights": post("Traffic weights", (400, 404, 500), [_MODEL]),
        f"{prefix}/history": {"get": {"summary": "Loads, promotions, rollbacks", "responses": ok}},
    }


def openapi_document(version: str) -> dict[str, Any]:
    """Return the OpenAPI document (a fresh dict)."""
    get_json = {"get": {"responses": {"200": {"description": "OK"}}}}
    paths: dict[str, Any] = {
        "/v2/health/live": {"get": {"summary": "Liveness", **get_json["get"]}},
        "/v2/health/ready": {
            "get": {"summary": "Readiness", "responses": {"200": {"description": "Ready"},
                                                          **_errors(503)}}
        },
        "/v2": {"get": {"summary": "Server metadata", **get_json["get"]}},
        "/v2/models/": {"get": {"summary": "List models", **get_json["get"]}},
        "/metrics": {"get": {"summary": "Prometheus metrics", **get_json["get"]}},
        "/openapi.json": {"get": {"summary": "This document", **get_json["get"]}},
        **_model_paths("/v2/models/{name}", [_MODEL]),
        **_model_paths("/v2/models/{name}/versions/{version}", [_MODEL, _VERSION]),
        **_repository_paths(),
    }  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "servegraph inference server", "version": version},
        "paths": paths,
        "components": {"schemas": _SCHEMAS},
    }
