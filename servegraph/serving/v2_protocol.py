"""The V2 (Open Inference Protocol) request/response shapes and model paths.

This module owns the parsing of model paths and of MLRun's simple body
(``{"id"?, "inputs": [...]}``); the HTTP edge extends it to full tensors.

>>> parse_path("/v2/models/m1/versions/v2/infer")
ModelPath(name='m1', version='v2', operation='infer')
>>> parse_request([[1, 2]])
{'inputs': [[1, 2]]}
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, NamedTuple

from servegraph.errors import BadRequestError

URL_PREFIX = "/v2/models"
OPERATIONS = frozenset({"infer", "predict", "explain", "ready", "health"})


class ModelPath(NamedTuple):
    """A parsed model path: model name, version and operation (``""`` when absent)."""

    name: str | None
    version: str | None
    operation: str


@lru_cache(maxsize=4096)
def parse_path(path: str) -> ModelPath:
    """Split ``[/v2/models]/{name}[/versions/{version}][/{operation}]``.

    >>> parse_path("/v2/models/")
    ModelPath(name=None, version=None, operation='')
    >>> parse_path("/v2/models/m1/ready")
    ModelPath(name='m1', version=None, operation='ready')
    """
    rest = path or ""
    if rest.startswith(URL_PREFIX):
        rest = rest[len(URL_PREFIX) :]
    parts = [part for part in rest.split("/") if part]
    if not parts:
        return ModelPath(None, None, "")
    name = parts[0]
    version = None
    tail = parts[1:]
    if len(tail) >= 2 and tail[0] == "versions":
        version = tail[1]
        tail = tail[2:]
    return ModelPath(name, version, "/".join(tail))


def decode_body(body: Any, content_type: str | None = None) -> Any:
    """Decode a JSON body given as bytes or str; other bodies are returned as they are."""
    if isinstance(body, bytes | bytearray | str):
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError as exc:
            raise BadRequestError(f"The request body is not valid JSON: {exc}") from exc
    return body


def parse_request(body: Any) -> dict[str, Any]:
    """Return the request as a dict holding ``inputs`` (and ``id`` if given).

    A bare list is taken as the inputs. Raises BadRequestError otherwise.
    """
    if type(body) is dict:
        if "inputs" not in body:
            raise BadRequestError(
                f"The request body must hold 'inputs'. Got keys {sorted(body)} instead."
            )
        return body
    if isinstance(body, bytes | bytearray | str):
        return parse_request(decode_body(body))
    if isinstance(body, list):
        return {"inputs": body}
    if isinstance(body, dict):
        return parse_request(dict(body))
    raise BadRequestError(
        f"The request body must be a JSON object with 'inputs' or a list. Got {type(body).__name__}."
    )


def make_response(
    request_id: str, model_name: str, outputs: Any, model_version: str | None = None
) -> dict[str, Any]:
    """The V2 response body."""
    response: dict[str, Any] = {"id": request_id, "model_name": model_name, "outputs": outputs}
    if model_version:
        response["model_version"] = model_version
    return response
