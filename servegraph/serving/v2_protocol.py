"""The V2 (Open Inference Protocol) request/response shapes and model paths.

This module owns the parsing of model paths and of MLRun's simple body
(``{"id"?, "inputs": [...]}``), and of Open Inference Protocol tensors (JSON
or the binary extension) through :mod:`servegraph.serving.tensors`.

>>> parse_path("/v2/models/m1/versions/v2/infer")
ModelPath(name='m1', version='v2', operation='infer')
>>> parse_request([[1, 2]])
{'inputs': [[1, 2]]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from servegraph.errors import BadRequestError
from servegraph.serving.event import Response
from servegraph.serving.json_body import parse_json
from servegraph.serving.tensor_binary import HEADER_LENGTH
from servegraph.serving.tensors import (
    InferRequest,
    decode_infer_request,
    encode_outputs,
    is_tensor_request,
)

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
        return parse_json(body)
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
        "The request body must be a JSON object with 'inputs' or a list. "
        f"Got {type(body).__name__}."
    )


def make_response(
    request_id: str, model_name: str, outputs: Any, model_version: str | None = None
) -> dict[str, Any]:
    """The V2 response body."""
    response: dict[str, Any] = {"id": request_id, "model_name": model_name, "outputs": outputs}
    if model_version:
        response["model_version"] = model_version
    return response


# -- Open Inference Protocol tensors (the HTTP edge's codec, servegraph.serving.tensors) ------

BINARY_HEADER = HEADER_LENGTH


def parse_infer(body: Any, headers: Mapping[str, Any] | None) -> tuple[dict[str, Any], Any]:
    """Parse an infer body: MLRun's simple ``{"inputs": rows}`` or OIP tensors (JSON or binary).

    Returns ``(request, oip)``; ``oip`` is the decoded :class:`InferRequest` for
    tensor requests (None for the simple body). For OIP, ``request["inputs"]``
    is the list of rows of the one input tensor, or, for several inputs, a list
    of ``{"name", "datatype", "shape", "data": ndarray}``.
    """
    length = headers.get(BINARY_HEADER) if headers else None
    if length is not None and isinstance(body, bytes | bytearray | str):
        oip = decode_infer_request(body, length)
    else:
        if type(body) is not dict:
            body = decode_body(body)
        if not is_tensor_request(body):
            return parse_request(body), None
        oip = decode_infer_request(body)
    if len(oip.inputs) == 1:
        data = oip.inputs[0].data
        inputs: list[Any] = list(data) if data.ndim else [data.item()]
    else:
        inputs = [
            {"name": t.name, "datatype": t.datatype, "shape": t.shape, "data": t.data}
            for t in oip.inputs
        ]
    request: dict[str, Any] = {"inputs": inputs}
    if oip.id is not None:
        request["id"] = oip.id
    if oip.parameters:
        request["parameters"] = oip.parameters
    if oip.outputs:
        request["outputs"] = oip.outputs
    return request, oip


def _output_pairs(outputs: Any, oip: InferRequest, default_name: str) -> list[tuple[str, Any]]:
    if isinstance(outputs, Mapping):
        return list(outputs.items())
    if (
        isinstance(outputs, list)
        and outputs
        and all(isinstance(o, Mapping) and "name" in o and "data" in o for o in outputs)
    ):
        return [(o["name"], o["data"]) for o in outputs]
    name = oip.outputs[0]["name"] if len(oip.outputs) == 1 else default_name
    return [(name, outputs)]


def encode_oip_response(response: Mapping[str, Any], oip: InferRequest, default_name: str) -> Any:
    """Encode a model's response dict for an OIP request.

    ``response["outputs"]`` (what predict returned: an array, a dict of named
    arrays, or a list of ``{"name", "data"}``) becomes OIP tensors. Returns the
    JSON-ready dict, or a :class:`Response` with the binary tensor extension when
    the request asked for binary outputs.
    """
    pairs = _output_pairs(response.get("outputs"), oip, default_name)
    entries, tail = encode_outputs(
        pairs, oip.outputs, oip.parameters, str(response.get("model_name", ""))
    )
    document = dict(response)
    document["outputs"] = entries
    if not any("parameters" in entry for entry in entries):
        return document
    head = json.dumps(document, separators=(",", ":")).encode()
    return Response(
        head + tail,
        content_type="application/octet-stream",
        headers={BINARY_HEADER: str(len(head))},
    )
