"""The OIP binary tensor extension: header split and BYTES elements."""

from __future__ import annotations

from servegraph.serving.tensor_binary import split_header


def test_split_header_without_length_is_all_json() -> None:
    assert split_header(b"abc", None) == (b"abc", b"")
    assert split_header(b"abcdef", "2") == (b"ab", b"cdef")
