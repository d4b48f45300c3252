"""The OIP tensor codec: every datatype, JSON and binary, shape checks."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest

from servegraph.errors import BadRequestError
from servegraph.serving.tensors import (
    DATATYPES,
    HEADER_LENGTH,
    datatype_of,
    decode_infer_request,
    decode_tensor,
    encode_infer_response,
    encode_tensor,
    is_tensor_request,
)

NUMERIC = [name for name in DATATYPES if name != "BYTES"]


def _sample(datatype: str) -> np.ndarray[Any, Any]:
    if datatype == "BOOL":
        return np.array([[True, False, True], [False, False, True]])
    return np.arange(6).reshape(2, 3).astype(DATATYPES[datatype])


@pytest.mark.parametrize("datatype", NUMERIC)
def test_every_numeric_datatype_round_trips_as_json_nested_and_flat(datatype: str) -> None:
    array = _sample(datatype)
    nested = {"name": "x", "shape": [2, 3], "datatype": datatype, "data": array.tolist()}
    flat = dict(nested, data=array.ravel().tolist())
    for tensor in (nested, flat):
        decoded = decode_tensor(tensor)
        assert decoded.data.dtype == DATATYPES[datatype]
        assert decoded.data.shape == (2, 3)
        np.testing.assert_array_equal(decoded.data, array)
    entry, raw = encode_tensor("x", array)
    assert raw is None
    assert entry == {"name": "x", "shape": [2, 3], "datatype": datatype, "data": flat["data"]}


@pytest.mark.parametrize("datatype", NUMERIC)
def test_every_numeric_datatype_round_trips_as_binary(datatype: str) -> None:
    array = _sample(datatype)
    entry, raw = encode_tensor("x", array, binary=True)
    assert raw is not None and entry["parameters"] == {"binary_data_size": len(raw)}
    assert datatype_of(array) == datatype
    decoded = decode_tensor(entry, raw)
    np.testing.assert_array_equal(decoded.data, array)
    assert decoded.data.dtype == DATATYPES[datatype]
    assert decoded.data.flags.writeable  # models may change their inputs in place


def test_bytes_tensors_json_and_binary() -> None:
    tensor = {"name": "s", "shape": [2], "datatype": "BYTES", "data": ["héllo", "w"]}
    decoded = decode_tensor(tensor)
    assert decoded.data.tolist() == ["héllo", "w"]
    entry, raw = encode_tensor("s", np.array([b"ab", b"\x00\xff"], dtype=object), binary=True)
    assert raw == struct.pack("<I", 2) + b"ab" + struct.pack("<I", 2) + b"\x00\xff"
    assert decode_tensor(entry, raw).data.tolist() == [b"ab", b"\x00\xff"]
    entry, _ = encode_tensor("s", ["a", "b"])
    assert entry == {"name": "s", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}


def test_non_utf8_bytes_cannot_go_as_json() -> None:
    with pytest.raises(BadRequestError, match="binary_data"):
        encode_tensor("s", np.array([b"\xff"], dtype=object))


@pytest.mark.parametrize(
    ("tensor", "match"),
    [
        ({"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3]}, "needs 4"),
        ({"name": "x", "shape": [2], "datatype": "FP99", "data": [1, 2]}, "'datatype'"),
        ({"name": "x", "shape": [2], "datatype": "INT32", "data": [1.5, 2]}, "does not match"),
        ({"name": "x", "shape": [2], "datatype": "INT8", "data": [1, 300]}, "out of range"),
        ({"name": "x", "shape": [2], "datatype": "BOOL", "data": [1, 0]}, "does not match"),
        ({"name": "x", "shape": [2], "datatype": "FP32", "data": ["a", "b"]}, "does not match"),
        ({"name": "x", "shape": [2], "datatype": "FP32", "data": [[1], [2, 3]]}, "ragged"),
        ({"name": "x", "shape": [2], "datatype": "BYTES", "data": [1, 2]}, "strings"),
        ({"name": "x", "shape": [-1], "datatype": "FP32", "data": []}, "'shape'"),
        ({"name": "x", "shape": "2", "datatype": "FP32", "data": [1, 2]}, "'shape'"),
        ({"shape": [1], "datatype": "FP32", "data": [1]}, "'name'"),
        ({"name": "x", "shape": [1], "datatype": "FP32"}, "neither 'data'"),
    ],
)
def test_bad_tensors_raise_bad_request(tensor: dict[str, Any], match: str) -> None:
    with pytest.raises(BadRequestError, match=match):
        decode_tensor(tensor)


def test_binary_size_must_match_shape() -> None:
    tensor = {"name": "x", "shape": [3], "datatype": "FP32"}
    with pytest.raises(BadRequestError, match="needs 12 bytes"):
        decode_tensor(tensor, b"\x00" * 8)
    with pytest.raises(BadRequestError, match="truncated"):
        decode_tensor({"name": "s", "shape": [1], "datatype": "BYTES"}, b"\x05\x00\x00\x00ab")


def test_request_with_binary_inputs_in_order() -> None:
    a, b = np.arange(4, dtype=np.float32).reshape(2, 2), np.array([7, 8], dtype=np.int64)
    head = {
        "id": "r1",
        "inputs": [
            {"name": "a", "shape": [2, 2], "datatype": "FP32", "parameters": {}},
            {"name": "j", "shape": [1], "datatype": "INT32", "data": [5]},
            {"name": "b", "shape": [2], "datatype": "INT64"},
        ],
        "outputs": [{"name": "y", "parameters": {"binary_data": True}}],
        "parameters": {"binary_data_output": False},
    }
    head["inputs"][0]["parameters"]["binary_data_size"] = a.nbytes
    head["inputs"][2]["parameters"] = {"binary_data_size": b.nbytes}
    header = json.dumps(head).encode()
    request = decode_infer_request(header + a.tobytes() + b.tobytes(), str(len(header)))
    assert request.id == "r1"
    assert [t.name for t in request.inputs] == ["a", "j", "b"]
    np.testing.assert_array_equal(request.inputs[0].data, a)
    np.testing.assert_array_equal(request.inputs[2].data, b)
    assert request.inputs[1].data.tolist() == [5]
    assert request.outputs == [{"name": "y", "parameters": {"binary_data": True}}]
    with pytest.raises(BadRequestError, match="not claimed"):
        decode_infer_request(header + a.tobytes() + b.tobytes() + b"x", len(header))
    with pytest.raises(BadRequestError, match="does not fit"):
        decode_infer_request(header + a.tobytes(), len(header))


@pytest.mark.parametrize(
    ("body", "header", "match"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"[1, 2]", None, "JSON object"),
        (b'{"inputs": []}', None, "non-empty list"),
        (b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]}', "x", "int"),
        (b"{}", "99", HEADER_LENGTH),
        (
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], '
            b'"parameters": [1]}',
            None,
            "'parameters' of the request",
        ),
        (
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1], '
            b'"parameters": 5}]}',
            None,
            "'parameters' of an input",
        ),
    ],
)
def test_malformed_requests(body: bytes, header: str | None, match: str) -> None:
    with pytest.raises(BadRequestError, match=match):
        decode_infer_request(body, header)


def test_response_json_binary_and_requested_outputs() -> None:
    outputs = [("y", np.array([[0.5, 1.5]])), ("label", np.array(["a"]))]
    body, length = encode_infer_response(
        model_name="m", model_version="2", outputs=outputs, request_id="7"
    )
    assert length is None
    doc = json.loads(body)
    assert doc == {
        "model_name": "m",
        "model_version": "2",
        "id": "7",
        "outputs": [
            {"name": "y", "shape": [1, 2], "datatype": "FP64", "data": [0.5, 1.5]},
            {"name": "label", "shape": [1], "datatype": "BYTES", "data": ["a"]},
        ],
    }
    body, length = encode_infer_response(
        model_name="m", outputs=outputs, requested=[{"name": "y", "parameters": {"binary_data": 1}}]
    )
    assert length is not None
    doc = json.loads(body[:length])
    assert [o["name"] for o in doc["outputs"]] == ["y"]
    assert np.frombuffer(body[length:], dtype="<f8").tolist() == [0.5, 1.5]
    body, length = encode_infer_response(
        model_name="m", outputs=outputs, parameters={"binary_data_output": True}
    )
    assert length is not None and len(json.loads(body[:length])["outputs"]) == 2
    with pytest.raises(BadRequestError, match="'nope'"):
        encode_infer_response(model_name="m", outputs=outputs, requested=[{"name": "nope"}])


def test_is_tensor_request_tells_oip_from_plain_rows() -> None:
    assert is_tensor_request({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32"}]})
    assert not is_tensor_request({"inputs": [[1, 2], [3, 4]]})
    assert not is_tensor_request({"inputs": []})
    assert not is_tensor_request([1, 2])
