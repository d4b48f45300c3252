"""Dict and YAML forms: MLRun-style plain dicts in, every field preserved on the way back."""

from __future__ import annotations

from typing import Any

import pytest

from servegraph.errors import GraphError
from servegraph.graph import (
    FlowStep,
    QueueStep,
    RootFlowStep,
    RouterStep,
    TaskStep,
    from_yaml,
    graph_from_dict,
    to_yaml,
)
from servegraph.graph.serialize import load_step


class Model:
    pass


def full_graph() -> RootFlowStep:
    """A graph that sets every field of every kind."""
    graph = RootFlowStep(engine="sync", final_step="post")
    graph.comment = "the graph"
    prep = graph.to(
        "mypkg.Prep",
        "prep",
        graph_shape="hexagon",
        function="fn1",
        full_event=True,
        input_path="in",
        result_path="out",
        factor=2,
    )
    assert isinstance(prep, TaskStep)
    prep.skip_context = True
    prep.comment = "prepare"
    router = prep.to("*mypkg.Router", "router", vote_type="regression")
    assert isinstance(router, RouterStep)
    router.add_route("m1", class_name=Model, model_path="m1.pkl")
    router.add_route("m1:v2", class_name="mypkg.M", function="child", model_path="m1v2.pkl")
    queue = router.to(
        ">>",
        "q1",
        path="redis://127.0.0.1:6379/s",
        shards=3,
        retention_in_hours=5,
        trigger_args={"a": 1},
        batch=4,
    )
    queue.to(name="post", handler="(event)").respond()
    sub = graph.add_step(FlowStep(engine="async"), name="sub", after="prep")
    assert isinstance(sub, FlowStep)
    sub.to(name="inner", handler="json.dumps")
    prep.error_handler("catch", handler="on_error", full_event=True)
    graph.error_handler("graph_catch", class_name="mypkg.Catcher", level=1)
    return graph


def test_yaml_round_trip_preserves_every_field() -> None:
    graph = full_graph()
    text = to_yaml(graph)
    again = from_yaml(text)
    assert isinstance(again, RootFlowStep)
    assert again.to_dict() == graph.to_dict()
    assert to_yaml(again) == text == graph.to_yaml()
    prep = again["prep"]
    assert isinstance(prep, TaskStep)
    assert (prep.shape, prep.function, prep.full_event, prep.skip_context) == (
        "hexagon",
        "fn1",
        True,
        True,
    )
    assert (prep.input_path, prep.result_path, prep.comment, prep.on_error) == (
        "in",
        "out",
        "prepare",
        "catch",
    )
    router = again["router"]
    assert isinstance(router, RouterStep)
    assert router.routes["m1"].class_name == f"{__name__}.Model"
    assert router.routes["m1:v2"].function == "child"
    queue = again["q1"]
    assert isinstance(queue, QueueStep)
    assert (queue.shards, queue.retention_in_hours, queue.trigger_args, queue.options) == (
        3,
        5,
        {"a": 1},
        {"batch": 4},
    )
    assert again["post"].responder
    assert (again.engine, again.final_step, again.on_error, again.comment) == (
        "sync",
        "post",
        "graph_catch",
        "the graph",
    )
    sub = again["sub"]
    assert isinstance(sub, FlowStep) and sub.engine == "async"
    assert sub["inner"].parent is sub


def test_flow_dict_shape() -> None:
    graph = RootFlowStep(engine="async")
    graph.to(name="a", handler="(event)").to(name="b", class_name="m.C", x=1).respond()
    assert graph.to_dict() == {
        "kind": "flow",
        "steps": {
            "a": {"kind": "task", "handler": "(event)"},
            "b": {
                "kind": "task",
                "class_name": "m.C",
                "class_args": {"x": 1},
                "after": ["a"],
                "responder": True,
            },
        },
        "engine": "async",
    }


def test_router_dict_shape() -> None:
    router = RouterStep("ModelRouter", {"a": 1}, {"m1": TaskStep("m.C")})
    assert router.to_dict() == {
        "kind": "router",
        "class_name": "ModelRouter",
        "class_args": {"a": 1},
        "routes": {"m1": {"kind": "task", "class_name": "m.C"}},
    }


MLRUN_FLOW: dict[str, Any] = {
    "steps": {
        "enrich": {
            "kind": "task",
            "class_name": "storey.Extend",
            "class_args": {"_fn": "({'x': 1})"},
        },
        "router": {
            "kind": "router",
            "class_name": "mlrun.serving.ModelRouter",
            "class_args": {},
            "routes": {
                "m1": {
                    "class_name": "mlrun.frameworks.sklearn.SKLearnModelServer",
                    "class_args": {"model_path": "store://models/p/m1"},
                },
            },
            "after": "enrich",
            "responder": True,
        },
        "catcher": {"kind": "task", "handler": "handle"},
        "q": {"kind": "queue", "path": "v3io:///projects/p/q", "after": ["router"]},
    },
    "engine": "async",
    "final_step": "router",
    "on_error": "catcher",
}


@pytest.mark.parametrize("kind", [None, "root", "flow"])
def test_from_dict_of_mlrun_flows(kind: str | None) -> None:
    struct = dict(MLRUN_FLOW) if kind is None else {"kind": kind, **MLRUN_FLOW}
    graph = graph_from_dict(struct)
    assert isinstance(graph, RootFlowStep)
    router = graph["router"]
    assert isinstance(router, RouterStep)
    assert router.after == ["enrich"] and router.responder
    route = router.routes["m1"]
    assert isinstance(route, TaskStep) and route.parent is router
    assert route.class_args == {"model_path": "store://models/p/m1"}
    assert isinstance(graph["q"], QueueStep)
    assert graph.on_error == "catcher" and graph.final_step == "router"
    graph.validate()
    again = graph_from_dict(graph.to_dict())
    assert again.to_dict() == graph.to_dict()


def test_from_dict_of_an_mlrun_router_root() -> None:
    struct = {
        "kind": "router",
        "class_name": "mlrun.serving.VotingEnsemble",
        "class_args": {"vote_type": "regression"},
        "routes": {"m1": {"class_name": "M"}, "m2:v1": {"kind": "task", "class_name": "M"}},
    }
    root = graph_from_dict(struct)
    assert isinstance(root, RouterStep)
    assert list(root.routes) == ["m1", "m2:v1"]
    assert root.to_dict() == {
        **struct,
        "routes": {
            "m1": {"kind": "task", "class_name": "M"},
            "m2:v1": {"kind": "task", "class_name": "M"},
        },
    }


def test_graph_from_dict_errors() -> None:
    with pytest.raises(
        GraphError, match="the root must be a 'flow' or a 'router', got kind 'queue'"
    ):
        graph_from_dict({"kind": "queue"})
    with pytest.raises(GraphError, match="graph: expected a dict, got 3"):
        graph_from_dict(3)  # type: ignore[arg-type]
    graph = RootFlowStep()
    assert graph_from_dict(graph) is graph
    with pytest.raises(GraphError, match="step 'a': unknown field 'bogus' for kind 'task'"):
        graph_from_dict({"steps": {"a": {"bogus": 1}}})
    with pytest.raises(GraphError, match="step 'a': unknown kind 'nope'"):
        graph_from_dict({"steps": {"a": {"kind": "nope"}}})
    with pytest.raises(GraphError, match="route 'm' cannot be a 'flow' step"):
        graph_from_dict({"kind": "router", "routes": {"m": {"kind": "flow"}}})


def test_load_step_picks_root_or_single_step() -> None:
    assert isinstance(load_step({"kind": "task", "handler": "h"}), TaskStep)
    assert isinstance(load_step({"kind": "queue"}), QueueStep)
    assert isinstance(load_step({"kind": "flow"}), RootFlowStep)
    assert isinstance(load_step({"kind": "router"}), RouterStep)


def test_from_yaml_errors() -> None:
    with pytest.raises(GraphError, match="graph: invalid YAML"):
        from_yaml("a: [1")
    with pytest.raises(GraphError, match="graph: YAML must hold a mapping, got list"):
        from_yaml("- 1\n")


def test_to_yaml_of_non_plain_class_args_names_the_step() -> None:
    step = TaskStep("m.C", {"model": Model()}, name="s")
    with pytest.raises(GraphError, match="step 's': cannot write YAML"):
        to_yaml(step)


def test_single_step_yaml_round_trip() -> None:
    step = TaskStep("m.C", {"a": [1, 2]}, name="s", after=["x"])
    again = from_yaml(step.to_yaml())
    assert isinstance(again, TaskStep) and again.to_dict() == step.to_dict()


def test_responder_on_nested_flows_and_queues_round_trips() -> None:
    graph = RootFlowStep()
    graph.to(">>", "q", path=None)
    sub = graph.add_step(FlowStep(), name="sub", after="q").respond()
    assert sub.to_dict(with_name=False) == {"kind": "flow", "after": ["q"], "responder": True}
    again = graph_from_dict(graph.to_dict())
    assert isinstance(again, RootFlowStep) and again.responders() == ["sub"]


def test_older_mlrun_final_state_spelling() -> None:
    graph = graph_from_dict({"steps": {"a": {"handler": "h"}}, "final_state": "a"})
    assert isinstance(graph, RootFlowStep) and graph.final_step == "a"
    assert graph.to_dict()["final_step"] == "a"


@pytest.mark.parametrize(
    ("struct", "message"),
    [
        ({"steps": ["a"]}, "graph: 'steps' must be a dict of steps, got \\['a'\\]"),
        ({"final_step": 3}, "graph: 'final_step' must be a str, got 3"),
        ({"engine": "fast"}, "'engine' must be 'sync' or 'async', got 'fast'"),
    ],
)
def test_bad_flow_fields(struct: dict[str, object], message: str) -> None:
    with pytest.raises(GraphError, match=message):
        graph_from_dict(struct)
