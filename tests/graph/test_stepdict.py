"""StepDict: keys name the steps, the owner becomes their parent."""

from __future__ import annotations

import pytest

from servegraph.errors import GraphError
from servegraph.graph import QueueStep, RootFlowStep, StepDict, TaskStep


def make() -> tuple[RootFlowStep, StepDict]:
    owner = RootFlowStep()
    return owner, StepDict(owner, {"a": {"handler": "h"}})


def test_items_are_converted_named_and_parented() -> None:
    owner, steps = make()
    assert isinstance(steps["a"], TaskStep)
    assert steps["a"].name == "a" and steps["a"].parent is owner
    renamed = TaskStep(handler="h", name="other")
    steps["b"] = renamed
    assert renamed.name == "b"


def test_default_kind_and_allowed_kinds() -> None:
    owner = RootFlowStep()
    queues = StepDict(owner, default_kind="queue", label="queue", allowed=(QueueStep,))
    queues["q"] = {"path": "x"}
    assert isinstance(queues["q"], QueueStep)
    with pytest.raises(GraphError, match="queue 't' cannot be a 'task' step"):
        queues["t"] = TaskStep(handler="h")


def test_replacing_and_deleting_detach_the_old_step() -> None:
    _, steps = make()
    old = steps["a"]
    steps["a"] = TaskStep(handler="x")
    assert old.parent is None
    new = steps["a"]
    del steps["a"]
    assert new.parent is None and "a" not in steps


def test_update_setdefault_pop_clear() -> None:
    owner, steps = make()
    steps.update({"b": {"handler": "h"}}, c=TaskStep(handler="h"))
    assert list(steps) == ["a", "b", "c"] and steps["c"].parent is owner
    assert steps.setdefault("a", {"handler": "ignored"}).handler == "h"
    assert steps.setdefault("d", {"handler": "new"}).handler == "new"
    popped = steps.pop("b")
    assert popped.parent is None and "b" not in steps
    assert steps.pop("zz", None) is None
    with pytest.raises(KeyError):
        steps.pop("zz")
    kept = list(steps.values())
    steps.clear()
    assert not steps and all(step.parent is None for step in kept)


def test_bad_keys_and_foreign_steps() -> None:
    _, steps = make()
    with pytest.raises(GraphError, match="step name must be a str, got ''"):
        steps[""] = TaskStep(handler="h")
    foreign = RootFlowStep().to(name="f", handler="h")
    with pytest.raises(GraphError, match="step 'f' already belongs to"):
        steps["f"] = foreign


def test_to_dict_leaves_names_to_the_keys() -> None:
    _, steps = make()
    assert steps.to_dict() == {"a": {"kind": "task", "handler": "h"}}
