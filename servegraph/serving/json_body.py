"""Decoding JSON request bodies: malformed input, and numbers no model can hold, are a 400.

Python's ``json`` reads any integer, so a 400-digit one would pass parsing and
fail in the model (a 500). A body whose text has a run of 20+ digits is parsed
with an integer check (digits inside strings are fine); other bodies take the
fast path unchanged. The scan is a byte translation and a ``find`` (a regex
takes ~70 ms per MB here).

Big bodies (:func:`parse_json_yielding`) are parsed on the loop a few hundred
values at a time, and the cyclic garbage collector is paused while such a body
is alive (:func:`gc_paused`): a full collection over the million objects of a
10 MB body holds the GIL for ~200 ms, and the body is freed by reference
counting when its request ends.

>>> parse_json(b'{"inputs": [[1, 2.5]]}')
{'inputs': [[1, 2.5]]}
>>> parse_json('[' + '9' * 30 + ']')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
servegraph.errors.BadRequestError: The request body holds an integer of 30 digits; ...
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
from collections.abc import Iterator
from typing import Any

from servegraph.errors import BadRequestError

_DIGIT_MAP = bytes(0x31 if 0x30 <= i <= 0x39 else 0x30 for i in range(256))
_RUN = b"1" * 20


def _has_long_number(data: bytes | bytearray | str) -> bool:
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    return raw.translate(_DIGIT_MAP).find(_RUN) >= 0


_INT_RANGE = range(-(2**63), 2**64)  # int64 and uint64 together


def _checked_int(text: str) -> int:
    value = int(text)
    if value not in _INT_RANGE:
        raise BadRequestError(
            f"The request body holds an integer of {len(text.lstrip('-'))} digits; "
            "integers must fit in 64 bits."
        )
    return value


def parse_json(data: bytes | bytearray | str) -> Any:
    """Parse a JSON request body; BadRequestError for malformed input or huge integers."""
    try:
        if not _has_long_number(data):
            return json.loads(data)
        return json.loads(data, parse_int=_checked_int)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise BadRequestError(f"The request body is not valid JSON: {exc}") from exc


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_YIELD_EVERY = 64  # values decoded between two yields to the event loop


class _Incremental:
    """Decode containers one value at a time (C ``raw_decode`` per value), yielding to
    the loop between groups of values: a 10 MB body never holds the loop for long."""

    def __init__(self, text: str, checked: bool) -> None:
        self.text = text
        self.decoder = json.JSONDecoder(parse_int=_checked_int) if checked else json.JSONDecoder()
        self.count = 0

    def skip(self, pos: int) -> int:
        return _WHITESPACE.match(self.text, pos).end()  # type: ignore[union-attr]

    async def value(self, pos: int, depth: int) -> tuple[Any, int]:
        self.count += 1
        if self.count % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
        char = self.text[pos : pos + 1]
        if depth < 2 and char == "[":
            return await self.array(pos + 1, depth + 1)
        if depth < 2 and char == "{":
            return await self.object(pos + 1, depth + 1)
        return self.decoder.raw_decode(self.text, pos)

    async def array(self, pos: int, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "]":
            return items, pos + 1
        while True:
            item, pos = await self.value(self.skip(pos), depth)
            items.append(item)
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "]":
                return items, pos + 1
            if char != ",":
                raise ValueError(f"expected ',' or ']' at char {pos}")
            pos += 1

    async def object(self, pos: int, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "}":
            return result, pos + 1
        while True:
            pos = self.skip(pos)
            if self.text[pos : pos + 1] != '"':
                raise ValueError(f"expected a property name at char {pos}")
            key, pos = self.decoder.raw_decode(self.text, pos)
            pos = self.skip(pos)
            if self.text[pos : pos + 1] != ":":
                raise ValueError(f"expected ':' at char {pos}")
            result[key], pos = await self.value(self.skip(pos + 1), depth)
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "}":
                return result, pos + 1
            if char != ",":
                raise ValueError(f"expected ',' or '}}' at char {pos}")
            pos += 1


async def parse_json_yielding(data: bytes | bytearray | str) -> Any:
    """:func:`parse_json` for big bodies, on the event loop but giving it back every few
    hundred values, so other requests keep being served while it runs.

    >>> asyncio.run(parse_json_yielding(b'{"inputs": [[1, 2], [3, 4]], "id": "a"}'))
    {'inputs': [[1, 2], [3, 4]], 'id': 'a'}
    """
    try:
        text = data if isinstance(data, str) else bytes(data).decode()
        parser = _Incremental(text, _has_long_number(data))
        value, end = await parser.value(parser.skip(0), 0)
        if parser.skip(end) != len(text):
            raise ValueError(f"extra data at char {end}")
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadRequestError(f"The request body is not valid JSON: {exc}") from exc
    return value


_paused = 0


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big parsed body is alive (nested and
    concurrent uses count; the collector is re-enabled by the last, if it was on)."""
    global _paused
    if _paused == 0:
        gc_paused.was_enabled = gc.isenabled()  # type: ignore[attr-defined]
        gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0 and gc_paused.was_enabled:  # type: ignore[attr-defined]
            gc.enable()
