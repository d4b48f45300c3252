"""Parsing of ``key=value`` style CLI options."""

from __future__ import annotations

from typing import Any

import yaml

from servegraph.errors import UsageError


def parse_value(text: str) -> Any:
    """A YAML scalar or list (``5`` -> 5, ``[1,2]`` -> [1, 2]); plain text if not YAML.

    >>> parse_value("5"), parse_value("a-string"), parse_value("[1, 2]")
    (5, 'a-string', [1, 2])
    """
    if not text.strip():
        return ""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, bool) and text.strip().lower() not in ("true", "false"):
        return text  # YAML 1.1 reads NO, yes, on, off as booleans
    if not _json_safe(value):
        return text  # e.g. 2026-01-01 is read as a date
    return value


def _json_safe(value: Any) -> bool:
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return isinstance(value, str | int | float | type(None))


def parse_pairs(options: list[str] | None, flag: str, parse: bool = True) -> dict[str, Any]:
    """Parse repeated ``key=value`` options into a dict; UsageError names the bad one."""
    out: dict[str, Any] = {}
    for option in options or []:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"The '{flag}' option must be key=value. Got {option!r} instead.")
        out[key.strip()] = parse_value(value) if parse else value
    return out
