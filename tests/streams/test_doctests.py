"""The examples in the stream modules' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "servegraph.streams",
    "servegraph.streams.codec",
    "servegraph.streams.filelog",
    "servegraph.streams.kafka",
    "servegraph.streams.redis_streams",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
