"""Dotted sub-field access on dict bodies (``input_path`` / ``result_path``).

>>> get_path({"a": {"b": 1}}, ("a", "b"))
1
>>> set_path({"a": {}}, ("a", "c"), 2)
{'a': {'c': 2}}
"""

from __future__ import annotations

from typing import Any

from servegraph.errors import BadRequestError


def split_path(path: str | None) -> tuple[str, ...]:
    """``"a.b"`` -> ``("a", "b")``; empty or None -> ``()``."""
    if not path:
        return ()
    return tuple(part for part in str(path).split(".") if part)


def get_path(body: Any, path: tuple[str, ...]) -> Any:
    """The sub-field of ``body`` at ``path``; BadRequestError when it is missing."""
    value = body
    for part in path:
        try:
            value = value[part]
        except (KeyError, TypeError, IndexError):
            raise BadRequestError(
                f"The event body has no field {'.'.join(path)!r} (input_path)."
            ) from None
    return value


def set_path(body: Any, path: tuple[str, ...], value: Any) -> Any:
    """Store ``value`` in ``body`` at ``path`` (creating dicts on the way); return the body."""
    if not path:
        return value
    if not isinstance(body, dict):
        raise BadRequestError(
            f"Cannot store a result at {'.'.join(path)!r} (result_path): "
            f"the event body is a {type(body).__name__}, not a dict."
        )
    target = body
    for part in path[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    target[path[-1]] = value
    return body
