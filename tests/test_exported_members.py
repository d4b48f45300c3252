"""The public API in servegraph.__all__ stays in sync with what resolves."""

from __future__ import annotations

import importlib

import pytest

import servegraph


@pytest.mark.parametrize("name", servegraph.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    module_path = servegraph._EXPORTS[name]
    try:
        importlib.import_module(module_path)
    except ModuleNotFoundError as exc:
        pytest.fail(f"servegraph.{name} points at missing module {module_path}: {exc}")
    assert getattr(servegraph, name) is not None


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = servegraph.no_such_name  # type: ignore[attr-defined]
