"""servegraph.serving exports its public names lazily."""

from __future__ import annotations

import importlib

import pytest

import servegraph.serving


@pytest.mark.parametrize("name", servegraph.serving.__all__)
def test_every_serving_name_resolves(name: str) -> None:
    assert getattr(servegraph.serving, name) is not None


def test_routers_module_and_unknown_names() -> None:
    routers = importlib.import_module("servegraph.serving.routers")
    assert routers.ModelRouter is servegraph.serving.ModelRouter
    with pytest.raises(AttributeError, match="nothing_here"):
        _ = servegraph.serving.nothing_here  # type: ignore[attr-defined]
