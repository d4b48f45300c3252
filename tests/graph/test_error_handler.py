"""Error handlers: created or picked by name, wired by on_error and before."""

from __future__ import annotations

import pytest

from servegraph.errors import GraphError
from servegraph.graph import RootFlowStep, RouterStep, TaskStep


class Echo:
    def do(self, event: object) -> object:
        return event


def chain() -> RootFlowStep:
    graph = RootFlowStep()
    graph.to(name="a", handler="(event)").to(name="b", handler="(event)").to(
        name="c", handler="(event)"
    )
    return graph


def test_step_error_handler_creates_a_handler_step_and_returns_the_step() -> None:
    graph = chain()
    b = graph["b"]
    assert b.error_handler("catch", handler="handle", full_event=True) is b
    assert b.on_error == "catch"
    catcher = graph["catch"]
    assert isinstance(catcher, TaskStep)
    assert (catcher.handler, catcher.full_event, catcher.after) == ("handle", True, [])
    assert graph.error_handlers() == {"catch"}
    assert "catch" not in [step.name for step in graph.start_steps()]
    assert graph.last_added is graph["c"]  # error handlers are not chain members


def test_error_handler_with_class_and_before() -> None:
    graph = chain()
    graph["a"].error_handler(name="catcher", class_name=Echo, before="c", flag=1)
    catcher = graph["catcher"]
    assert isinstance(catcher, TaskStep)
    assert catcher.class_name is Echo and catcher.class_args == {"flag": 1}
    assert graph["c"].after == ["b", "catcher"]


def test_graph_error_handler_by_name_only() -> None:
    graph = chain()
    assert graph.error_handler("catcher") is graph
    assert graph.on_error == "catcher"
    assert isinstance(graph["catcher"], TaskStep) and graph["catcher"].handler == "catcher"


def test_error_handler_pointing_at_an_existing_step() -> None:
    graph = chain()
    graph.add_step(name="fallback", handler="(event)")
    graph["a"].error_handler("fallback")
    assert graph["a"].on_error == "fallback"
    assert [step.name for step in graph.start_steps()] == ["a"]


def test_error_handler_errors() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="needs name, class_name or handler"):
        graph["a"].error_handler()
    with pytest.raises(GraphError, match="'before' cannot be set on the flow itself"):
        graph.error_handler("c2", handler="h", before="c")
    with pytest.raises(GraphError, match="unknown 'before' target 'zz'"):
        graph["a"].error_handler("c2", handler="h", before="zz")
    with pytest.raises(GraphError, match="step 'a': a step cannot be its own error handler"):
        graph["a"].error_handler("a")
    with pytest.raises(GraphError, match="step 'b' exists; it takes no new arguments"):
        graph["a"].error_handler("b", flag=1)
    with pytest.raises(GraphError, match="'c' already exists"):
        graph["a"].error_handler("c", handler="h")
    with pytest.raises(GraphError, match="needs a step inside a flow"):
        TaskStep(handler="h", name="alone").error_handler("x", handler="y")


def test_route_error_handler_lives_in_the_router_flow() -> None:
    graph = RootFlowStep()
    router = graph.to("*", name="router")
    assert isinstance(router, RouterStep)
    route = router.add_route("m1", class_name="mypkg.M")
    route.error_handler("route_catcher", handler="h")
    assert route.on_error == "route_catcher" and "route_catcher" in graph
