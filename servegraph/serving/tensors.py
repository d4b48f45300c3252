"""Open Inference Protocol (KServe V2) tensors: the JSON codec (binary parts in tensor_binary).

A V2 inference request is a JSON header, optionally followed by raw tensor
bytes (the binary tensor extension, which tritonclient uses by default). The
``Inference-Header-Content-Length`` HTTP header gives the size of the JSON
part; each input sent in binary carries ``parameters.binary_data_size`` and
its bytes follow in the order of the inputs.

>>> request = decode_infer_request(
...     b'{"id": "1", "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32",'
...     b' "data": [[1, 2], [3, 4]]}]}'
... )
>>> request.inputs[0].data.dtype, request.inputs[0].data.shape
(dtype('float32'), (2, 2))
>>> body, header_length = encode_infer_response(
...     model_name="m", outputs=[("y", np.array([1, 0]))], request_id="1"
... )
>>> header_length is None, json.loads(body)["outputs"][0]["data"]
(True, [1, 0])
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from servegraph.errors import BadRequestError
from servegraph.serving.json_body import parse_json as parse_json  # re-exported
from servegraph.serving.tensor_binary import HEADER_LENGTH as HEADER_LENGTH  # re-exported
from servegraph.serving.tensor_binary import join_bytes, split_bytes
from servegraph.serving.tensor_binary import split_header as split_header  # re-exported

# OIP datatype -> numpy dtype (little-endian on the wire)
DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "BYTES": np.dtype(object),
}

# numpy kinds of the JSON values each datatype accepts
_JSON_KINDS: dict[str, str] = {"b": "b", "u": "iub", "i": "iub", "f": "iuf", "O": "USO"}


@dataclass
class Tensor:
    """One decoded tensor: ``data`` is a numpy array of ``shape``."""

    name: str
    datatype: str
    shape: list[int]
    data: np.ndarray[Any, Any]
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class InferRequest:
    """A decoded V2 inference request."""

    inputs: list[Tensor]
    id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)


def is_tensor_request(body: Any) -> bool:
    """True when ``body`` (a parsed JSON dict) holds OIP tensors, not MLRun's plain rows."""
    if not isinstance(body, Mapping):
        return False
    inputs = body.get("inputs")
    if type(inputs) is not list or not inputs:
        return False
    first = inputs[0]
    if type(first) is list or not isinstance(first, Mapping):  # MLRun rows: the fast path
        return False
    return all(isinstance(item, Mapping) and "datatype" in item for item in inputs)


def numpy_dtype(datatype: str) -> np.dtype[Any]:
    """Return the numpy dtype of an OIP datatype name."""
    try:
        return DATATYPES[datatype]
    except KeyError:
        known = ", ".join(DATATYPES)
        raise BadRequestError(
            f"The 'datatype' of a tensor must be one of {known}. Got {datatype!r} instead."
        ) from None


def datatype_of(array: np.ndarray[Any, Any]) -> str:
    """Return the OIP datatype name of a numpy array."""
    kind = array.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iuf":
        return {"i": "INT", "u": "UINT", "f": "FP"}[kind] + str(array.dtype.itemsize * 8)
    if kind in "USO":
        return "BYTES"
    raise BadRequestError(f"Cannot send a tensor of numpy dtype {array.dtype} over V2.")


def _parameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadRequestError(f"The 'parameters' of {where} must be an object. Got {value!r}.")
    return dict(value)


def _shape(tensor: Mapping[str, Any], name: str) -> list[int]:
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 for dim in shape
    ):
        raise BadRequestError(
            f"The 'shape' of tensor {name!r} must be a list of non-negative ints. "
            f"Got {shape!r} instead."
        )
    return shape


def _from_json(data: Any, datatype: str, name: str) -> np.ndarray[Any, Any]:
    dtype = DATATYPES[datatype]
    if datatype == "BYTES":
        try:
            values = np.asarray(data, dtype=object)
        except ValueError as exc:
            raise BadRequestError(f"The 'data' of tensor {name!r} is ragged: {exc}") from exc
        flat = values.ravel()
        if not all(isinstance(item, str | bytes) for item in flat):
            raise BadRequestError(f"The 'data' of BYTES tensor {name!r} must hold strings.")
        return values
    try:
        values = np.asarray(data)
    except ValueError as exc:
        raise BadRequestError(f"The 'data' of tensor {name!r} is ragged: {exc}") from exc
    if values.size and values.dtype.kind not in _JSON_KINDS[dtype.kind]:
        raise BadRequestError(
            f"The 'data' of tensor {name!r} does not match its datatype {datatype}: "
            f"got values of numpy kind {values.dtype}."
        )
    if values.size and dtype.kind in "iu" and values.dtype.kind in "iu":
        info = np.iinfo(dtype)
        if values.min() < info.min or values.max() > info.max:
            raise BadRequestError(f"The 'data' of tensor {name!r} is out of range for {datatype}.")
    return values.astype(dtype, copy=False)


def decode_tensor(tensor: Mapping[str, Any], raw: bytes | None = None) -> Tensor:
    """Decode one OIP input tensor from its JSON form, or from ``raw`` binary bytes.

    >>> decode_tensor({"name": "x", "shape": [3], "datatype": "INT8", "data": [1, 2, 3]}).data
    array([1, 2, 3], dtype=int8)
    """
    if not isinstance(tensor, Mapping):
        raise BadRequestError(f"An input tensor must be a JSON object. Got {tensor!r} instead.")
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequestError(f"The 'name' of an input tensor must be a string. Got {name!r}.")
    shape = _shape(tensor, name)
    datatype = tensor.get("datatype")
    dtype = numpy_dtype(datatype if isinstance(datatype, str) else repr(datatype))
    parameters = _parameters(tensor.get("parameters"), f"tensor {name!r}")
    count = math.prod(shape)
    if raw is not None:
        if datatype == "BYTES":
            values = split_bytes(raw, name)
        elif len(raw) != count * dtype.itemsize:
            raise BadRequestError(
                f"Tensor {name!r} of shape {shape} and datatype {datatype} needs "
                f"{count * dtype.itemsize} bytes of binary data. Got {len(raw)} instead."
            )
        else:
            values = np.frombuffer(bytearray(raw), dtype=dtype)  # a writable copy
    elif "data" in tensor:
        values = _from_json(tensor["data"], str(datatype), name)
    else:
        raise BadRequestError(f"Input tensor {name!r} has neither 'data' nor binary_data_size.")
    if values.size != count:
        raise BadRequestError(
            f"Tensor {name!r} of shape {shape} needs {count} elements. Got {values.size} instead."
        )
    return Tensor(name, str(datatype), shape, values.reshape(shape), parameters)


def decode_infer_request(
    body: bytes | bytearray | str | Mapping[str, Any], header_length: str | int | None = None
) -> InferRequest:
    """Decode a V2 inference request (JSON, or JSON + binary tensors)."""
    binary = b""
    if isinstance(body, Mapping):
        document: Any = body
    else:
        raw = body.encode() if isinstance(body, str) else bytes(body)
        head, binary = split_header(raw, header_length)
        document = parse_json(head)
    if not isinstance(document, Mapping):
        raise BadRequestError("The inference request must be a JSON object.")
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadRequestError(
            f"The 'inputs' of an inference request must be a non-empty list. Got {inputs!r}."
        )
    tensors: list[Tensor] = []
    offset = 0
    for item in inputs:
        size = (
            _parameters(item.get("parameters"), "an input").get("binary_data_size")
            if isinstance(item, Mapping)
            else None
        )
        if size is None:
            tensors.append(decode_tensor(item))
            continue
        if not isinstance(size, int) or size < 0 or offset + size > len(binary):
            raise BadRequestError(
                f"The binary_data_size {size!r} of input {item.get('name')!r} does not fit the "
                f"{len(binary) - offset} binary bytes left in the body."
            )
        tensors.append(decode_tensor(item, binary[offset : offset + size]))
        offset += size
    if offset != len(binary):
        raise BadRequestError(
            f"The body has {len(binary) - offset} binary bytes not claimed by any input."
        )
    outputs = document.get("outputs") or []
    if not isinstance(outputs, list) or not all(
        isinstance(o, Mapping) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise BadRequestError("The 'outputs' of a request must be a list of {'name': ...}.")
    for output in outputs:
        _parameters(output.get("parameters"), f"output {output['name']!r}")
    request_id = document.get("id")
    return InferRequest(
        inputs=tensors,
        id=None if request_id is None else str(request_id),
        parameters=_parameters(document.get("parameters"), "the request"),
        outputs=[dict(o) for o in outputs],
    )


def _json_values(array: np.ndarray[Any, Any], datatype: str) -> list[Any]:
    flat = array.ravel()
    if datatype != "BYTES":
        values: list[Any] = flat.tolist()
        return values
    out: list[Any] = []
    for item in flat:
        if isinstance(item, bytes):
            try:
                item = item.decode()
            except UnicodeDecodeError as exc:
                raise BadRequestError(
                    "A BYTES output is not UTF-8; request it with binary_data=true."
                ) from exc
        out.append(item if isinstance(item, str) else str(item))
    return out


def encode_tensor(
    name: str, value: Any, binary: bool = False, datatype: str | None = None
) -> tuple[dict[str, Any], bytes | None]:
    """Encode one output tensor; return its JSON dict and its binary bytes (or None).

    >>> encode_tensor("y", [[1.5, 2.0]])
    ({'name': 'y', 'shape': [1, 2], 'datatype': 'FP64', 'data': [1.5, 2.0]}, None)
    """
    if isinstance(value, np.ndarray):
        array = value
    else:
        array = np.asarray(value)
        if array.dtype.kind in "US":
            array = array.astype(object)
    datatype = datatype or datatype_of(array)
    if datatype != "BYTES":
        array = array.astype(numpy_dtype(datatype), copy=False)
    entry: dict[str, Any] = {"name": name, "shape": list(array.shape), "datatype": datatype}
    if not binary:
        entry["data"] = _json_values(array, datatype)
        return entry, None
    raw = join_bytes(array) if datatype == "BYTES" else np.ascontiguousarray(array).tobytes()
    entry["parameters"] = {"binary_data_size": len(raw)}
    return entry, raw


def _wants_binary(name: str, requested: Sequence[Mapping[str, Any]], default: bool) -> bool:
    for output in requested:
        if output.get("name") == name:
            value = (output.get("parameters") or {}).get("binary_data")
            return default if value is None else bool(value)
    return default


def encode_outputs(
    outputs: Sequence[tuple[str, Any]],
    requested: Sequence[Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
    model_name: str = "",
) -> tuple[list[dict[str, Any]], bytes]:
    """Encode output tensors; return their JSON entries and the binary tail (maybe empty).

    Outputs are binary when asked per output (``parameters.binary_data``) or for
    all (the request parameter ``binary_data_output``); ``requested`` names
    filter the outputs.
    """
    default_binary = bool((parameters or {}).get("binary_data_output", False))
    available = dict(outputs)
    names = [o["name"] for o in requested] if requested else [name for name, _ in outputs]
    for name in names:
        if name not in available:
            raise BadRequestError(
                f"Requested output {name!r} is not produced by model {model_name!r}; "
                f"it has {sorted(available)}."
            )
    entries: list[dict[str, Any]] = []
    tail: list[bytes] = []
    for name in names:
        entry, raw = encode_tensor(
            name, available[name], binary=_wants_binary(name, requested, default_binary)
        )
        entries.append(entry)
        if raw is not None:
            tail.append(raw)
    return entries, b"".join(tail)


def encode_infer_response(
    *,
    model_name: str,
    outputs: Sequence[tuple[str, Any]],
    request_id: str | None = None,
    model_version: str | None = None,
    requested: Sequence[Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
) -> tuple[bytes, int | None]:
    """Encode a V2 inference response; return the body and the JSON header length.

    The header length is None when no output is binary (the body is plain JSON);
    otherwise send it as the ``Inference-Header-Content-Length`` response header.
    """
    entries, tail = encode_outputs(outputs, requested, parameters, model_name)
    document: dict[str, Any] = {"model_name": model_name}
    if model_version:
        document["model_version"] = model_version
    if request_id is not None:
        document["id"] = request_id
    document["outputs"] = entries
    head = json.dumps(document, separators=(",", ":")).encode()
    if not any("parameters" in entry for entry in entries):
        return head, None
    return head + tail, len(head)
