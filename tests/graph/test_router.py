"""Router steps: routes by key (incl. "name:version"), add_route, dict routes."""

from __future__ import annotations

import pytest

from servegraph.errors import GraphError
from servegraph.graph import FlowStep, QueueStep, RootFlowStep, RouterStep, TaskStep


class MyModel:
    def __init__(self, context: object = None, name: str | None = None, **kwargs: object) -> None:
        self.name = name


def test_constructor_keeps_mlrun_argument_order() -> None:
    routes = {"m1": TaskStep("mypkg.M")}
    router = RouterStep("VotingEnsemble", {"vote_type": "regression"}, routes, "ens")
    assert router.class_name == "VotingEnsemble"
    assert router.class_args == {"vote_type": "regression"}
    assert router.name == "ens" and router.kind == "router"
    assert router.routes["m1"].name == "m1" and router.routes["m1"].parent is router


def test_routes_accept_task_steps_and_dicts_with_version_keys() -> None:
    router = RouterStep(name="router")
    router.routes = {
        "m1": TaskStep("mypkg.M", {"model_path": "m1.pkl"}),
        "m3:v1": {"class_name": "mypkg.M", "class_args": {"model_path": "m3.pkl"}},
    }
    assert list(router.routes) == ["m1", "m3:v1"]
    versioned = router.routes["m3:v1"]
    assert isinstance(versioned, TaskStep)
    assert versioned.name == "m3:v1" and versioned.class_args == {"model_path": "m3.pkl"}
    assert router.get_children() == list(router.routes.values())


def test_item_assignment_on_routes_names_and_parents_the_step() -> None:
    router = RouterStep()
    router.routes["m2"] = TaskStep(MyModel)
    assert router.routes["m2"].name == "m2" and router.routes["m2"].parent is router


def test_routes_setter_detaches_dropped_routes_and_keeps_reused_ones() -> None:
    router = RouterStep()
    kept = router.add_route("keep", class_name="mypkg.M")
    dropped = router.add_route("drop", class_name="mypkg.M")
    router.routes = {"keep": kept}
    assert kept.parent is router and dropped.parent is None
    router.routes = None
    assert dict(router.routes) == {} and kept.parent is None


def test_add_route_forms() -> None:
    router = RouterStep(name="router")
    by_class = router.add_route("m1", class_name=MyModel, model_path="m1.pkl", function="fn")
    assert by_class.class_name is MyModel and by_class.class_args == {"model_path": "m1.pkl"}
    assert by_class.function == "fn"
    given = TaskStep("mypkg.M")
    assert router.add_route("m2:v2", given) is given and given.name == "m2:v2"
    from_dict = router.add_route("m3", {"class_name": "mypkg.M"})
    assert isinstance(from_dict, TaskStep) and from_dict.class_name == "mypkg.M"
    by_handler = router.add_route("h", handler="(event)")
    assert by_handler.handler == "(event)"
    nested = router.add_route("sub", RouterStep("*"))
    assert isinstance(nested, RouterStep)


def test_add_route_replaces_an_existing_key() -> None:
    router = RouterStep()
    old = router.add_route("m1", class_name="mypkg.Old")
    new = router.add_route("m1", class_name="mypkg.New")
    assert router.routes["m1"] is new and old.parent is None


def test_add_route_errors() -> None:
    router = RouterStep(name="router")
    with pytest.raises(GraphError, match="step 'router': route 'm1' needs route, class_name"):
        router.add_route("m1")
    with pytest.raises(GraphError, match="route key must be a non-empty str, got ''"):
        router.add_route("", class_name="mypkg.M")
    with pytest.raises(GraphError, match="give either route or class_name"):
        router.add_route("m1", TaskStep("mypkg.M"), class_name="mypkg.N")
    with pytest.raises(GraphError, match="route 'q' cannot be a 'queue' step"):
        router.add_route("q", QueueStep(path="x"))  # type: ignore[arg-type]
    with pytest.raises(GraphError, match="route 'f' cannot be a 'flow' step"):
        router.routes = {"f": FlowStep()}  # type: ignore[dict-item]
    with pytest.raises(GraphError, match="'routes' must be a dict of steps"):
        RouterStep(routes=["m1"])  # type: ignore[arg-type]


def test_a_route_cannot_belong_to_two_routers() -> None:
    route = RouterStep().add_route("m1", class_name="mypkg.M")
    with pytest.raises(GraphError, match="route 'm1' already belongs to"):
        RouterStep().add_route("m1", route)


def test_clear_children() -> None:
    router = RouterStep(name="router")
    router.add_route("a", class_name="mypkg.M")
    router.add_route("b", class_name="mypkg.M")
    router.clear_children(["a"])
    assert list(router.routes) == ["b"]
    with pytest.raises(GraphError, match="unknown route 'zz' \\(routes: b\\)"):
        router.clear_children(["zz"])


def test_router_inside_a_flow_chains_on() -> None:
    graph = RootFlowStep()
    router = graph.to("ModelRouter", name="router")
    assert isinstance(router, RouterStep)
    router.add_route("m1", class_name="mypkg.M")
    post = router.to(name="post", handler="(event)").respond()
    assert post.after == ["router"] and post.responder


def test_router_as_root_from_class_name_or_instance() -> None:
    by_name = RouterStep("VotingEnsemble", {"vote_type": "classification"})
    assert by_name.class_name == "VotingEnsemble"
    instance = MyModel()
    by_instance = RouterStep(instance)
    assert by_instance.class_name is instance
    assert by_instance.to_dict()["class_name"] == f"{__name__}.MyModel"
