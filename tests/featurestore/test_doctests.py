"""The examples in the feature-store docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import servegraph.featurestore as featurestore

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(featurestore.__path__, "servegraph.featurestore.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
