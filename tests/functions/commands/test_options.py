"""``key=value`` CLI options: values are parsed like YAML but stay JSON-safe."""

from __future__ import annotations

import pytest

from servegraph.errors import UsageError
from servegraph.functions.commands.options import parse_pairs, parse_value


def test_numbers_lists_booleans_and_text() -> None:
    assert parse_value("5") == 5 and parse_value("0.5") == 0.5
    assert parse_value("[1, 2]") == [1, 2] and parse_value("{a: 1}") == {"a": 1}
    assert parse_value("true") is True and parse_value("False") is False
    assert parse_value("a-string") == "a-string" and parse_value("") == ""


def test_yaml_surprises_stay_text() -> None:
    # YAML 1.1 reads these as booleans and dates; a parameter must stay what was typed
    for text in ("NO", "yes", "on", "off", "2026-01-01", "2026-01-01 10:00:00", "[2026-01-01]"):
        assert parse_value(text) == text


def test_pairs() -> None:
    assert parse_pairs(["a=1", "b=x=y"], "-p") == {"a": 1, "b": "x=y"}
    with pytest.raises(UsageError, match=r"'-p' option must be key=value\. Got 'a'"):
        parse_pairs(["a"], "-p")
