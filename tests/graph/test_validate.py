"""Graph validation: every check raises GraphError naming the step and the bad value."""

from __future__ import annotations

from typing import Any

import pytest

from servegraph.errors import GraphError
from servegraph.graph import FlowStep, RootFlowStep, RouterStep, TaskStep
from servegraph.graph.resolve import BUILTIN_CLASSES


class Model:
    def __init__(self, context: Any = None, name: str | None = None, **kwargs: Any) -> None:
        self.name = name

    def do(self, body: Any) -> Any:
        return body


def handle(event: Any) -> Any:
    return event


def two_steps() -> RootFlowStep:
    graph = RootFlowStep()
    graph.to(name="a", handler="handle").to("Model", name="b").respond()
    return graph


def test_a_good_graph_passes_with_and_without_resolution() -> None:
    graph = two_steps()
    graph.to(">>", "q", path=None)
    graph.validate()
    graph.validate(resolve=True, namespace={"handle": handle, "Model": Model})
    graph.validate(require_responder=True)
    RootFlowStep().validate(require_responder=False)


def test_unknown_after_target() -> None:
    graph = two_steps()
    graph["b"].after.append("nope")
    with pytest.raises(
        GraphError, match="step 'b': unknown 'after' target 'nope' \\(known steps: a, b\\)"
    ):
        graph.validate()


def test_step_after_itself() -> None:
    graph = two_steps()
    graph["a"].after.append("a")
    with pytest.raises(GraphError, match="step 'a': cannot run after itself"):
        graph.validate()


def test_cycle_through_after() -> None:
    graph = RootFlowStep()
    graph.to(name="s", handler="h").to(name="a", handler="h").to(name="b", handler="h")
    graph["a"].after_step("b")
    with pytest.raises(GraphError, match="graph cycle a -> b -> a"):
        graph.validate()


def test_cycle_through_an_error_path() -> None:
    graph = RootFlowStep()
    graph.to(name="a", handler="h").to(name="b", handler="h").error_handler("h1", handler="h")
    graph["a"].after_step("h1")
    graph.add_step(name="s", handler="h")
    with pytest.raises(GraphError, match="step 'a': graph cycle a -> b -> h1 -> a"):
        graph.validate()


def test_on_error_targets() -> None:
    graph = two_steps()
    graph["a"].on_error = "nope"
    with pytest.raises(GraphError, match="step 'a': unknown 'on_error' target 'nope'"):
        graph.validate()
    graph["a"].on_error = "a"
    with pytest.raises(GraphError, match="step 'a': cannot be its own error handler"):
        graph.validate()
    graph["a"].on_error = None
    graph.on_error = "gone"
    with pytest.raises(GraphError, match="graph: unknown 'on_error' target 'gone'"):
        graph.validate()


def test_final_step_target() -> None:
    graph = two_steps()
    graph.final_step = "zz"
    with pytest.raises(
        GraphError, match="graph: unknown 'final_step' 'zz' \\(known steps: a, b\\)"
    ):
        graph.validate()


def test_renamed_step_is_a_duplicate_name() -> None:
    graph = two_steps()
    graph["b"].name = "a"
    with pytest.raises(GraphError, match="step 'b': its name was changed to 'a'"):
        graph.validate()


def test_step_not_attached() -> None:
    graph = two_steps()
    dict.__setitem__(graph.steps, "x", TaskStep(handler="h", name="x"))
    with pytest.raises(GraphError, match="step 'x': not attached to graph"):
        graph.validate()


def test_no_start_step() -> None:
    graph = RootFlowStep()
    graph.to(name="h", handler="h")
    graph.on_error = "h"
    with pytest.raises(GraphError, match="graph: no start step"):
        graph.validate()


def test_more_than_one_responder() -> None:
    graph = two_steps()
    graph["a"].responder = True
    with pytest.raises(GraphError, match="graph: more than one responder step \\(a, b\\)"):
        graph.validate()


def test_async_flow_needs_a_responder_when_asked() -> None:
    graph = RootFlowStep(engine="async")
    graph.to(name="a", handler="h")
    graph.validate()
    with pytest.raises(GraphError, match="graph: an async flow needs a responder"):
        graph.validate(require_responder=True)
    graph.engine = "sync"
    graph.validate(require_responder=True)


def test_task_without_class_or_handler() -> None:
    graph = two_steps()
    graph.steps["empty"] = TaskStep()
    with pytest.raises(GraphError, match="step 'empty': class_name or handler must be given"):
        graph.validate()


@pytest.mark.parametrize(
    ("class_name", "handler", "message"),
    [
        ("Nope", None, "step 'x': cannot resolve class 'Nope'"),
        (None, "nope", "step 'x': cannot resolve handler 'nope'"),
        ("Model", "predict", "step 'x': class Model has no method 'predict' \\(handler\\)"),
        ("no_such_pkg.Model", None, "step 'x': cannot resolve class 'no_such_pkg.Model'"),
    ],
)
def test_unresolvable_class_or_handler(
    class_name: str | None, handler: str | None, message: str
) -> None:
    graph = RootFlowStep()
    graph.add_step(class_name, "x", handler)
    graph.validate()  # not resolved unless asked
    with pytest.raises(GraphError, match=message):
        graph.validate(resolve=True, namespace={"Model": Model})


def test_class_with_handler_method_resolves() -> None:
    graph = RootFlowStep()
    graph.add_step(Model, "x", "do")
    graph.validate(resolve=True)


def test_router_routes_and_default_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTIN_CLASSES, "ModelRouter", f"{__name__}:Model")
    graph = RootFlowStep()
    router = graph.to("*", name="router")
    assert isinstance(router, RouterStep)
    router.add_route("m1", class_name="Model")
    graph.validate(resolve=True, namespace={"Model": Model})
    router.add_route("m2", class_name="Missing")
    with pytest.raises(GraphError, match=r"step 'router.m2': cannot resolve class 'Missing'"):
        graph.validate(resolve=True, namespace={"Model": Model})


def test_router_root_validation() -> None:
    router = RouterStep("Model", name="root")
    router.add_route("m1", class_name="Model")
    router.validate(resolve=True, namespace={"Model": Model})
    router.routes["m1"].name = "other"
    with pytest.raises(GraphError, match="route 'm1' was renamed to 'other'"):
        router.validate()
    router.routes["m1"].name = "m1"
    router.routes["m1"].class_name = None
    with pytest.raises(GraphError, match="step 'm1': class_name or handler must be given"):
        router.validate()
    with pytest.raises(GraphError, match="step 'root': cannot resolve class 'Nope'"):
        RouterStep("Nope", name="root").validate(resolve=True)


def test_nested_flows_are_validated() -> None:
    graph = RootFlowStep()
    sub = graph.add_step(FlowStep(), name="sub")
    assert isinstance(sub, FlowStep)
    sub.to(name="inner", handler="h")
    sub["inner"].after.append("ghost")
    with pytest.raises(GraphError, match="step 'inner': unknown 'after' target 'ghost'"):
        graph.validate()


def test_single_task_validation() -> None:
    TaskStep(handler="h").validate()
    with pytest.raises(GraphError, match="task step: class_name or handler must be given"):
        TaskStep().validate()


def test_route_of_a_wrong_kind_slipped_in() -> None:
    router = RouterStep(name="root")
    dict.__setitem__(router.routes, "q", FlowStep(name="q"))
    with pytest.raises(GraphError, match="step 'root': route 'q' must be a task step"):
        router.validate()
