"""Graph algorithms: start steps, outlets, cycles, topological order."""

from __future__ import annotations

import pytest

from servegraph.errors import GraphError
from servegraph.graph import RootFlowStep
from servegraph.graph.topology import (
    error_handlers,
    find_cycle,
    outlets,
    start_steps,
    topological_order,
)


def diamond() -> RootFlowStep:
    graph = RootFlowStep()
    graph.to(name="a", handler="h").to(name="b", handler="h")
    graph.add_step(name="c", handler="h", after="a")
    graph.add_step("Merge", name="m", after=["b", "c"])
    graph["b"].error_handler("catch", handler="h")
    graph.error_handler("gcatch", handler="h")
    return graph


def test_start_steps_skip_error_handlers() -> None:
    graph = diamond()
    assert error_handlers(graph.steps, graph.on_error) == {"catch", "gcatch"}
    assert start_steps(graph.steps, graph.on_error) == ["a"]
    assert [step.name for step in graph.start_steps()] == ["a"]


def test_outlets_with_and_without_error_paths() -> None:
    graph = diamond()
    assert outlets(graph.steps) == {
        "a": ["b", "c"],
        "b": ["m", "catch"],
        "c": ["m"],
        "m": [],
        "catch": [],
        "gcatch": [],
    }
    assert outlets(graph.steps, with_errors=False)["b"] == ["m"]
    graph["m"].after.append("ghost")
    assert "ghost" not in outlets(graph.steps)


def test_topological_order() -> None:
    graph = diamond()
    order = topological_order(graph.steps)
    assert sorted(order) == sorted(graph.steps)
    for name, step in graph.steps.items():
        for inlet in step.after:
            assert order.index(inlet) < order.index(name)
    assert order.index("b") < order.index("catch")
    assert [step.name for step in graph.topological_order()] == order


def test_cycles() -> None:
    graph = diamond()
    assert find_cycle(graph.steps) is None
    graph["a"].after_step("m")
    assert find_cycle(graph.steps) == ["a", "b", "m", "a"]
    with pytest.raises(GraphError, match="step 'a': graph cycle a -> b -> m -> a"):
        topological_order(graph.steps)
