"""Builder arguments to steps: kinds, derived and unique names."""

from __future__ import annotations

import json

import pytest

from servegraph.errors import GraphError
from servegraph.graph import QueueStep, RouterStep, TaskStep
from servegraph.graph.params import derived_name, step_from_params, unique_name


class Echo:
    pass


def test_derived_names() -> None:
    assert derived_name("mypkg.Echo", None) == "mypkg.Echo"
    assert derived_name("*", None) == "router"
    assert derived_name("*mypkg.R", None) == "mypkg.R"
    assert derived_name(Echo, None) == "Echo"
    assert derived_name(Echo(), None) == "Echo"
    assert derived_name(None, "handle") == "handle"
    assert derived_name(None, json.dumps) == "dumps"
    assert derived_name(TaskStep("m.C", name="given"), None) == "given"
    assert derived_name(TaskStep("m.C"), None) == "m.C"
    assert derived_name(None, None) is None


def test_unique_name() -> None:
    assert unique_name("a", {"b"}) == "a"
    assert unique_name("a", {"a", "a_1"}) == "a_2"


def test_kinds_from_arguments() -> None:
    assert isinstance(step_from_params("m.C")[1], TaskStep)
    assert isinstance(step_from_params("VotingEnsemble")[1], RouterStep)
    assert isinstance(step_from_params("*")[1], RouterStep)
    name, queue = step_from_params(">>", "q", class_args={"path": None, "batch": 2})
    assert name == "q" and isinstance(queue, QueueStep) and queue.options == {"batch": 2}


def test_taken_names() -> None:
    assert step_from_params("m.C", taken={"m.C"})[0] == "m.C_1"
    with pytest.raises(GraphError, match=r"step 'm.C': a step named 'm.C' already exists"):
        step_from_params("m.C", "m.C", taken={"m.C"})


def test_bad_names() -> None:
    with pytest.raises(GraphError, match="step name must be a non-empty str, got ''"):
        step_from_params("m.C", "")
    with pytest.raises(GraphError, match="name or class_name must be given"):
        step_from_params(TaskStep(handler=None))


def test_every_spelling_of_a_router_class_builds_a_router_step() -> None:
    from servegraph.graph import RootFlowStep, RouterStep, TaskStep

    graph = RootFlowStep()
    for i, spelling in enumerate(
        (
            "VotingEnsemble",
            "servegraph.serving.ensemble.VotingEnsemble",
            "mlrun.serving.VotingEnsemble",
        )
    ):
        assert isinstance(graph.add_step(spelling, name=f"v{i}"), RouterStep)
    assert isinstance(graph.add_step("V2ModelServer", name="model"), TaskStep)
