"""The graph package: its public names, its layering, and the examples in its docstrings."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import servegraph.graph as graph_package

MODULES = sorted(
    f"servegraph.graph.{info.name}" for info in pkgutil.iter_modules(graph_package.__path__)
)


def test_all_lists_the_mlrun_step_classes_and_resolves() -> None:
    for name in ("TaskStep", "RouterStep", "QueueStep", "FlowStep", "RootFlowStep"):
        assert name in graph_package.__all__
    for name in graph_package.__all__:
        assert getattr(graph_package, name) is not None


@pytest.mark.parametrize("module_name", MODULES)
def test_graph_imports_nothing_of_servegraph_but_errors_and_config(module_name: str) -> None:
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(module.__file__ or "").read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("servegraph"):
                assert name.startswith(
                    ("servegraph.graph", "servegraph.errors", "servegraph.config")
                ), f"{module_name} imports {name}"


@pytest.mark.parametrize("module_name", ["servegraph.graph", *MODULES])
def test_docstring_examples(module_name: str) -> None:
    result = doctest.testmod(importlib.import_module(module_name))
    assert result.failed == 0
