"""Lazy package exports: resolved on first use, cached, listed by dir()."""

from __future__ import annotations

import doctest

import pytest

import servegraph._lazy
import servegraph.serving


def test_doctest() -> None:
    assert doctest.testmod(servegraph._lazy).failed == 0


def test_serving_package_exports_resolve_and_unknown_names_raise() -> None:
    for name in servegraph.serving.__all__:
        assert getattr(servegraph.serving, name).__name__ == name
    assert "GraphServer" in dir(servegraph.serving)
    with pytest.raises(AttributeError, match=r"servegraph\.serving' has no attribute 'Nope'"):
        _ = servegraph.serving.Nope  # type: ignore[attr-defined]


def test_submodules_are_reachable_as_attributes() -> None:
    # MLRun code writes servegraph.serving.routers.VotingEnsemble without importing it
    import servegraph

    assert servegraph.serving.routers.VotingEnsemble.__name__ == "VotingEnsemble"
    assert servegraph.graph.flow.FlowStep.__name__ == "FlowStep"
    with pytest.raises(AttributeError, match="no attribute 'nosuchmodule'"):
        _ = servegraph.serving.nosuchmodule  # type: ignore[attr-defined]
