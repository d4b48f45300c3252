"""The OIP binary tensor extension: the JSON header length and raw BYTES elements.

A request or response body is a JSON header followed by raw tensor bytes; the
``Inference-Header-Content-Length`` HTTP header gives the size of the JSON part.

>>> split_header(b'{"a": 1}tail', "8")
(b'{"a": 1}', b'tail')
>>> split_bytes(join_bytes(np.array([b"ab", b""], dtype=object)), "x").tolist()
[b'ab', b'']
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from servegraph.errors import BadRequestError

HEADER_LENGTH = "Inference-Header-Content-Length"


def split_header(body: bytes, header_length: str | int | None) -> tuple[bytes, bytes]:
    """Split a request body into its JSON header and the binary tail."""
    if header_length is None or header_length == "":
        return body, b""
    try:
        size = int(header_length)
    except ValueError:
        size = -1
    if size < 0 or size > len(body):
        raise BadRequestError(
            f"The {HEADER_LENGTH} header must be an int between 0 and the body size "
            f"{len(body)}. Got {header_length!r} instead."
        )
    return body[:size], body[size:]


def split_bytes(raw: bytes, name: str) -> np.ndarray[Any, Any]:
    """Decode BYTES in binary form: each element is a 4-byte little-endian length, then bytes."""
    items: list[bytes] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise BadRequestError(f"Binary BYTES data of tensor {name!r} is truncated.")
        (size,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + size > len(raw):
            raise BadRequestError(f"Binary BYTES data of tensor {name!r} is truncated.")
        items.append(raw[offset : offset + size])
        offset += size
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def join_bytes(array: np.ndarray[Any, Any]) -> bytes:
    """Encode BYTES in binary form: a 4-byte little-endian length before each element."""
    parts: list[bytes] = []
    for item in array.ravel():
        value = item if isinstance(item, bytes) else str(item).encode()
        parts.append(struct.pack("<I", len(value)))
        parts.append(value)
    return b"".join(parts)
