"""Task steps: class / instance / handler forms and their dict form."""

from __future__ import annotations

import json

import pytest

from servegraph.errors import GraphError
from servegraph.graph import TaskStep, step_from_dict


class Scale:
    def __init__(self, factor: int = 1) -> None:
        self.factor = factor

    def do(self, body: int) -> int:
        return body * self.factor


def test_constructor_keeps_mlrun_argument_order() -> None:
    step = TaskStep(
        "mypkg.Scale",
        {"factor": 2},
        "run",
        "scale",
        "prep",
        True,
        "fn",
        True,
        "in.x",
        "out.y",
    )
    assert (step.class_name, step.class_args, step.handler, step.name) == (
        "mypkg.Scale",
        {"factor": 2},
        "run",
        "scale",
    )
    assert (step.after, step.full_event, step.function, step.responder) == (
        ["prep"],
        True,
        "fn",
        True,
    )
    assert (step.input_path, step.result_path) == ("in.x", "out.y")
    assert step.kind == "task" and step.get_shape() == "box"


def test_class_and_instance_are_kept_and_written_as_dotted_paths() -> None:
    by_class = TaskStep(Scale, name="s")
    instance = Scale(3)
    by_instance = TaskStep(instance, name="i")
    assert by_class.class_name is Scale and by_instance.class_name is instance
    assert by_class.class_path == by_instance.class_path == f"{__name__}.Scale"
    assert by_instance.to_dict()["class_name"] == f"{__name__}.Scale"


def test_function_handler_is_written_as_its_path() -> None:
    step = TaskStep(handler=json.dumps, name="dump")
    assert step.handler is json.dumps
    assert step.handler_path == "json.dumps"
    assert step.to_dict() == {"kind": "task", "handler": "json.dumps", "name": "dump"}


def test_to_dict_writes_every_set_field_in_mlrun_order() -> None:
    step = TaskStep("m.C", {"a": 1}, "h", "s", ["x"], True, "fn", True, "i", "r")
    step.skip_context = True
    step.comment = "note"
    step.shape = "hexagon"
    step.on_error = "catch"
    assert list(step.to_dict()) == [
        "kind",
        "class_name",
        "class_args",
        "handler",
        "skip_context",
        "after",
        "function",
        "comment",
        "shape",
        "full_event",
        "on_error",
        "responder",
        "input_path",
        "result_path",
        "name",
    ]


def test_false_full_event_is_kept_but_false_responder_omitted() -> None:
    step = TaskStep("m.C", full_event=False, responder=False)
    assert step.to_dict() == {"kind": "task", "class_name": "m.C", "full_event": False}


def test_class_args_are_copied() -> None:
    args = {"a": 1}
    step = TaskStep("m.C", args)
    args["a"] = 2
    assert step.class_args == {"a": 1}
    dumped = step.to_dict()
    dumped["class_args"]["a"] = 3
    assert step.class_args == {"a": 1}


def test_mlrun_endpoint_fields_round_trip() -> None:
    struct = {
        "kind": "task",
        "class_name": "m.C",
        "model_endpoint_creation_strategy": "inplace",
        "endpoint_type": 1,
    }
    assert step_from_dict(struct).to_dict() == struct


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"class_args": [1]}, "'class_args' must be a dict of str keys, got \\[1\\]"),
        ({"class_args": {1: 2}}, "'class_args' must be a dict of str keys"),
        ({"handler": 5}, "'handler' must be a function or a name, got 5"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(GraphError, match="step 's': " + message):
        TaskStep(name="s", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("struct", "message"),
    [
        ({"class_name": 5}, "'class_name' must be a str, got 5"),
        ({"handler": ["x"]}, "'handler' must be a str"),
        ({"skip_context": "yes"}, "'skip_context' must be a bool, got 'yes'"),
        ({"responder": "yes"}, "'responder' must be a bool, got 'yes'"),
        ({"full_event": 1}, "'full_event' must be a bool, got 1"),
        ({"function": 1}, "'function' must be a str, got 1"),
        ({"after": 1}, "'after' must be a step name or a list of names, got 1"),
        ({"class_nmae": "x"}, "unknown field 'class_nmae' for kind 'task' \\(known: class_name"),
    ],
)
def test_bad_dict_fields(struct: dict[str, object], message: str) -> None:
    with pytest.raises(GraphError, match="step 's': " + message):
        step_from_dict(struct, name="s")


def test_repr_names_the_target() -> None:
    assert repr(TaskStep("m.C", name="s")) == "TaskStep(name='s', 'm.C')"
    assert repr(TaskStep(handler="h", name="s")) == "TaskStep(name='s', 'h')"
