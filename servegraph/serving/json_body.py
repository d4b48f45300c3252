"""Decoding JSON request bodies: malformed input, and numbers no model can hold, are a 400.

Python's ``json`` reads any integer, so a 400-digit one would pass parsing and
fail in the model (a 500). A body whose text has a run of 20+ digits is parsed
again with an integer check (digits inside strings are fine); other bodies take
the fast path unchanged.

>>> parse_json(b'{"inputs": [[1, 2.5]]}')
{'inputs': [[1, 2.5]]}
>>> parse_json('[' + '9' * 30 + ']')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
servegraph.errors.BadRequestError: The request body holds an integer of 30 digits; ...
"""

from __future__ import annotations

import json
import re
from typing import Any

from servegraph.errors import BadRequestError

_LONG_DIGITS = re.compile(r"\d{20}")
_LONG_DIGITS_BYTES = re.compile(rb"\d{20}")
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
    pattern = _LONG_DIGITS if isinstance(data, str) else _LONG_DIGITS_BYTES
    try:
        if pattern.search(data) is None:  # type: ignore[arg-type]
            return json.loads(data)
        return json.loads(data, parse_int=_checked_int)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise BadRequestError(f"The request body is not valid JSON: {exc}") from exc
