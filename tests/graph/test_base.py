"""The step base: common fields, after_step, the kind registry, the dict form."""

from __future__ import annotations

import pytest

from servegraph.errors import GraphError
from servegraph.graph import (
    BaseStep,
    FlowStep,
    QueueStep,
    RootFlowStep,
    RouterStep,
    TaskStep,
    step_from_dict,
)
from servegraph.graph.base import known_kinds, step_class


def test_registry_holds_the_mlrun_kinds() -> None:
    assert known_kinds() == ["flow", "queue", "router", "task"]
    assert step_class("task") is TaskStep
    assert step_class("router") is RouterStep
    assert step_class("queue") is QueueStep
    assert step_class("flow") is FlowStep
    with pytest.raises(GraphError, match="step: unknown kind 'bogus' \\(known kinds: flow,"):
        step_class("bogus")


def test_common_fields_default_empty() -> None:
    step = TaskStep(handler="h")
    assert step.name is None and step.after == [] and step.on_error is None
    assert step.responder is False and step.function is None and step.full_event is None
    assert step.input_path is None and step.result_path is None and step.shape is None
    assert step.parent is None and step.get_children() == []
    assert repr(QueueStep("q")) == "QueueStep(name='q', path=None)"
    assert repr(FlowStep("f")) == "FlowStep(name='f')"


def test_after_step_appends_names_once_or_replaces() -> None:
    step = TaskStep(handler="h", name="s", after="a")
    assert step.after_step("b", TaskStep(handler="h", name="c"), "a") is step
    assert step.after == ["a", "b", "c"]
    step.after_step("z", append=False)
    assert step.after == ["z"]
    with pytest.raises(GraphError, match="step 's': bad 'after' target ''"):
        step.after_step("")


def test_bad_name_and_after() -> None:
    with pytest.raises(GraphError, match="step name must be a str, got 3"):
        TaskStep(handler="h", name=3)  # type: ignore[arg-type]
    with pytest.raises(GraphError, match="'after' must be a step name or a list of names"):
        TaskStep(handler="h", after=[1])  # type: ignore[list-item]


def test_shape_defaults_per_kind() -> None:
    assert TaskStep().get_shape() == "box"
    assert RouterStep().get_shape() == "doubleoctagon"
    assert QueueStep().get_shape() == "cds"
    assert FlowStep().get_shape() == "folder"
    step = TaskStep()
    step.shape = "hexagon"
    assert step.get_shape() == "hexagon"


def test_step_from_dict_defaults_to_task_and_passes_steps_through() -> None:
    step = step_from_dict({"handler": "h"}, name="s")
    assert isinstance(step, TaskStep) and step.name == "s"
    assert step_from_dict(step) is step
    assert step_from_dict({"kind": "task", "name": "inner"}).name == "inner"
    assert step_from_dict({"kind": "task", "name": "inner"}, name="key").name == "key"
    with pytest.raises(GraphError, match="step 's': expected a step object or a dict, got 5"):
        step_from_dict(5, name="s")  # type: ignore[arg-type]


def test_from_dict_checks_the_kind() -> None:
    with pytest.raises(GraphError, match="kind 'router' does not match TaskStep"):
        TaskStep.from_dict({"kind": "router"}, name="s")
    assert isinstance(RootFlowStep.from_dict({"kind": "root"}), RootFlowStep)


def test_to_dict_without_name() -> None:
    step = TaskStep(handler="h", name="s")
    assert step.to_dict(with_name=False) == {"kind": "task", "handler": "h"}


def test_fullname_of_top_level_steps_is_their_name() -> None:
    graph = RootFlowStep()
    step = graph.to(name="a", handler="h")
    assert step.fullname == "a" and graph.fullname == ""
    assert isinstance(step, BaseStep)
