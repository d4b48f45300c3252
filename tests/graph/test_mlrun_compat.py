"""MLRun's "error_step" dicts load as task steps wired by on_error and after."""

from __future__ import annotations

import pytest

from servegraph.errors import GraphError
from servegraph.graph import RootFlowStep, TaskStep, graph_from_dict
from servegraph.graph.mlrun_compat import split_error_steps


def test_error_step_becomes_a_task_and_before_an_inlet() -> None:
    graph = graph_from_dict(
        {
            "kind": "root",
            "steps": {
                "raise": {"kind": "task", "handler": "raising_step", "on_error": "catcher"},
                "catcher": {
                    "kind": "error_step",
                    "handler": "handle_error",
                    "full_event": True,
                    "before": ["echo"],
                    "base_step": "raise",
                },
                "echo": {"kind": "task", "handler": "echo", "after": ["raise"], "responder": True},
            },
            "engine": "async",
        }
    )
    assert isinstance(graph, RootFlowStep)
    catcher = graph["catcher"]
    assert isinstance(catcher, TaskStep) and catcher.full_event
    assert graph["raise"].on_error == "catcher"
    assert graph["echo"].after == ["raise", "catcher"]
    graph.validate()
    assert graph.to_dict()["steps"]["catcher"] == {
        "kind": "task",
        "handler": "handle_error",
        "full_event": True,
    }


def test_before_as_a_string_and_without_before() -> None:
    steps, befores = split_error_steps(
        {"a": {"kind": "error_step", "handler": "h", "before": "b"}, "c": {"handler": "x"}},
        "graph",
    )
    assert befores == [("a", ["b"])] and steps["c"] == {"handler": "x"}
    assert split_error_steps({"a": {"kind": "error_step", "handler": "h"}}, "graph")[1] == []


def test_bad_before_values() -> None:
    with pytest.raises(GraphError, match="step 'a': 'before' must be a list of step names, got 3"):
        split_error_steps({"a": {"kind": "error_step", "before": 3}}, "graph")
    with pytest.raises(GraphError, match="step 'h': unknown 'before' target 'zz'"):
        graph_from_dict({"steps": {"h": {"kind": "error_step", "handler": "f", "before": ["zz"]}}})
