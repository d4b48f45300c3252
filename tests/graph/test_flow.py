"""The flow builder: to, add_step (after/before/$prev/$start/merges), lookup, error handlers."""

from __future__ import annotations

import copy
import pickle

import pytest

from servegraph.errors import GraphError
from servegraph.graph import FlowStep, QueueStep, RootFlowStep, RouterStep, TaskStep


class Echo:
    def do(self, event: object) -> object:
        return event


def chain() -> RootFlowStep:
    graph = RootFlowStep()
    graph.to(name="a", handler="(event)").to(name="b", handler="(event)").to(
        name="c", handler="(event)"
    )
    return graph


def test_to_chains_and_returns_the_new_step() -> None:
    graph = RootFlowStep(engine="async")
    a = graph.to(name="a", handler="(event + 1)")
    b = a.to(Echo, name="b")
    assert isinstance(b, TaskStep)
    assert b.class_name is Echo
    assert a.after == [] and b.after == ["a"]
    assert list(graph.steps) == ["a", "b"]
    assert graph["b"] is b and b.parent is graph


def test_to_passes_every_builder_argument() -> None:
    graph = RootFlowStep()
    step = graph.to(
        "mypkg.Model",
        "m",
        "predict",
        graph_shape="hexagon",
        function="child",
        full_event=True,
        input_path="data.x",
        result_path="out",
        model_path="m.pkl",
    )
    assert isinstance(step, TaskStep)
    assert (step.class_name, step.name, step.handler) == ("mypkg.Model", "m", "predict")
    assert (step.shape, step.function, step.full_event) == ("hexagon", "child", True)
    assert (step.input_path, step.result_path) == ("data.x", "out")
    assert step.class_args == {"model_path": "m.pkl"}


def test_to_on_the_graph_adds_another_start_step() -> None:
    graph = chain()
    d = graph.to(name="d", handler="(event)")
    assert d.after == []
    assert [step.name for step in graph.start_steps()] == ["a", "d"]


def test_names_derive_from_class_or_handler_and_stay_unique() -> None:
    graph = RootFlowStep()
    first = graph.to(Echo)
    second = first.to(Echo())
    third = second.to("mypkg.Echo")
    fourth = third.to(handler="json.dumps")
    assert [first.name, second.name, third.name, fourth.name] == [
        "Echo",
        "Echo_1",
        "mypkg.Echo",
        "json.dumps",
    ]


def test_duplicate_explicit_name_is_an_error() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="step 'b': a step named 'b' already exists"):
        graph.add_step(name="b", handler="(event)")
    with pytest.raises(GraphError, match="'b' already exists"):
        graph["a"].to(name="b", handler="(event)")


def test_router_and_queue_shorthands() -> None:
    graph = RootFlowStep()
    router = graph.to("*", name="r1")
    assert isinstance(router, RouterStep) and router.class_name is None
    named = graph.to("*mypkg.MyRouter")
    assert isinstance(named, RouterStep) and named.name == "mypkg.MyRouter"
    assert named.class_name == "mypkg.MyRouter"
    builtin = graph.to("ModelRouter", name="r2")
    assert isinstance(builtin, RouterStep)
    queue = router.to(">>", "q1", path="redis://127.0.0.1:6379/q1", shards=2)
    assert isinstance(queue, QueueStep)
    assert (queue.path, queue.shards, queue.after) == ("redis://127.0.0.1:6379/q1", 2, ["r1"])
    after_queue = queue.to(name="consumer", handler="(event)")
    assert after_queue.after == ["q1"]


def test_queue_shorthand_needs_name_and_path() -> None:
    graph = RootFlowStep()
    with pytest.raises(GraphError, match=r"queue step .*a name is required"):
        graph.to(">>", path="x")
    with pytest.raises(GraphError, match="queue step 'q': path=<stream url or None> is required"):
        graph.to("$queue", "q")


def test_step_object_as_class_name_is_used_as_is() -> None:
    graph = RootFlowStep()
    task = TaskStep("mypkg.X", {"a": 1})
    added = graph.add_step(task, name="x", function="fn2", input_path="in")
    assert added is task and task.name == "x" and task.parent is graph
    assert (task.function, task.input_path) == ("fn2", "in")
    with pytest.raises(GraphError, match="already belongs to"):
        RootFlowStep().add_step(task, name="again")
    with pytest.raises(GraphError, match="takes no handler or class args"):
        graph.add_step(TaskStep("mypkg.Y"), name="y", a=1)


def test_class_name_or_handler_is_required() -> None:
    graph = RootFlowStep()
    with pytest.raises(GraphError, match="class_name or handler must be given"):
        graph.add_step(name="x")
    with pytest.raises(GraphError, match="is a function; pass it as handler="):
        graph.add_step(len, name="x")


def test_add_step_after_name_list_prev_and_start() -> None:
    graph = RootFlowStep()
    graph.add_step(name="a", handler="(event)")
    graph.add_step(name="b", handler="(event)", after="$prev")
    graph.add_step(name="c", handler="(event)", after="a")
    merge = graph.add_step("Merge", name="m", after=["b", "c"])
    start = graph.add_step(name="s", handler="(event)", after="$start")
    by_object = graph.add_step(name="o", handler="(event)", after=graph["s"])
    assert graph["b"].after == ["a"]
    assert graph["c"].after == ["a"]
    assert merge.after == ["b", "c"]
    assert start.after == []
    assert by_object.after == ["s"]
    assert graph.next_steps("a") == [graph["b"], graph["c"]]


def test_prev_on_an_empty_flow_is_a_start_step() -> None:
    graph = RootFlowStep()
    first = graph.add_step(name="a", handler="(event)", after="$prev")
    assert first.after == []


def test_prev_means_the_last_added_step_even_after_before_insertion() -> None:
    graph = chain()  # a -> b -> c
    inserted = graph.add_step(name="x", handler="(event)", before="c")
    assert inserted.after == ["b"] and graph["c"].after == ["x"]
    assert graph.last_added is inserted
    nxt = graph.add_step(name="y", handler="(event)", after="$prev")
    assert nxt.after == ["x"]  # not "c", the end of the chain


def test_before_with_after_rewires_only_that_inlet() -> None:
    graph = RootFlowStep()
    graph.add_step(name="a", handler="(event)")
    graph.add_step(name="b", handler="(event)")
    graph.add_step("Merge", name="m", after=["a", "b"])
    graph.add_step(name="x", handler="(event)", after="a", before="m")
    assert graph["x"].after == ["a"]
    assert graph["m"].after == ["x", "b"]
    graph.add_step(name="side", handler="(event)", after="b", before="x")
    assert graph["x"].after == ["a", "side"]


@pytest.mark.parametrize(
    ("after", "message"),
    [
        ("nope", "step 'n': unknown 'after' target 'nope' \\(known steps: a, b, c\\)"),
        (["a", "nope"], "unknown 'after' target 'nope'"),
        (["$start", "a"], "bad 'after' target '\\$start'"),
        ([3], "bad 'after' target 3"),
    ],
)
def test_bad_after_targets(after: object, message: str) -> None:
    graph = chain()
    with pytest.raises(GraphError, match=message):
        graph.add_step(name="n", handler="(event)", after=after)  # type: ignore[arg-type]
    assert "n" not in graph


def test_bad_before_targets() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="step 'n': unknown 'before' target 'zz'"):
        graph.add_step(name="n", handler="(event)", before="zz")
    with pytest.raises(GraphError, match="'b' is both 'after' and 'before' target"):
        graph.add_step(name="n", handler="(event)", after="b", before="b")
    assert "n" not in graph


def test_lookup_contains_iteration_and_deletion() -> None:
    graph = chain()
    assert "a" in graph and "zz" not in graph
    assert graph.get_children() == list(graph.steps.values())
    with pytest.raises(GraphError, match="no step named 'zz' \\(steps: a, b, c\\)"):
        graph["zz"]
    removed = graph["c"]
    del graph["c"]
    assert removed.parent is None and "c" not in graph
    with pytest.raises(GraphError, match="no step named 'c'"):
        del graph["c"]
    graph["d"] = {"handler": "(event)", "after": ["b"]}
    assert isinstance(graph["d"], TaskStep) and graph["d"].name == "d"


def test_steps_setter_accepts_steps_and_dicts() -> None:
    graph = RootFlowStep()
    old = graph.to(name="old", handler="(event)")
    graph.steps = {"a": TaskStep(handler="(event)"), "b": {"handler": "(event)", "after": "a"}}
    assert old.parent is None
    assert graph["b"].after == ["a"] and graph["a"].parent is graph
    assert graph.last_added is None
    with pytest.raises(GraphError, match="'steps' must be a dict of steps"):
        graph.steps = ["a"]  # type: ignore[assignment]
    with pytest.raises(GraphError, match="unknown kind 'bogus'"):
        graph.steps = {"a": {"kind": "bogus"}}


def test_path_to_step_through_nested_flows_and_routes() -> None:
    graph = RootFlowStep()
    sub = graph.add_step(FlowStep(), name="sub")
    assert isinstance(sub, FlowStep)
    router = sub.to("*", name="router")
    assert isinstance(router, RouterStep)
    router.add_route("m1", class_name="mypkg.M")
    assert graph.path_to_step("sub.router.m1") is router.routes["m1"]
    assert router.fullname == "sub.router"
    assert router.routes["m1"].fullname == "sub.router.m1"
    with pytest.raises(GraphError, match=r"no step 'nope' in path 'sub.nope'"):
        graph.path_to_step("sub.nope")


def test_nested_flow_to_adds_inside_it() -> None:
    graph = RootFlowStep()
    sub = graph.add_step(FlowStep(engine="sync"), name="sub")
    inner = sub.to(name="inner", handler="(event)")
    assert inner.parent is sub and "inner" not in graph
    follow = sub.to(name="x", handler="(event)")
    assert follow.after == []  # a flow's to() adds a start step inside it


def test_respond_marks_one_responder() -> None:
    graph = chain()
    assert graph["c"].respond() is graph["c"]
    assert graph.responders() == ["c"] and graph.get_responder() is graph["c"]
    with pytest.raises(
        GraphError, match="step 'b': cannot respond, flow already has responder 'c'"
    ):
        graph["b"].respond()
    assert graph["c"].respond() is graph["c"]  # idempotent


def test_engine_values() -> None:
    assert RootFlowStep().engine is None and RootFlowStep().is_async
    assert not RootFlowStep(engine="sync").is_async
    graph = RootFlowStep(engine="async")
    graph.engine = "sync"
    assert graph.engine == "sync"
    with pytest.raises(GraphError, match="'engine' must be 'sync' or 'async', got 'storey'"):
        RootFlowStep(engine="storey")
    with pytest.raises(GraphError, match="'engine' must be"):
        graph.engine = "fast"


def test_to_outside_a_flow_is_an_error() -> None:
    with pytest.raises(GraphError, match=r"step 'alone': .to\(\) needs a step inside a flow"):
        TaskStep(handler="h", name="alone").to(name="x", handler="y")
    router = RouterStep(name="r")
    route = router.add_route("m1", class_name="mypkg.M")
    with pytest.raises(GraphError, match=r"step 'm1': .to\(\) needs a step inside a flow"):
        route.to(name="x", handler="y")


@pytest.mark.parametrize("copier", ["deepcopy", "pickle"])
def test_deepcopy_and_pickle_keep_parents(copier: str) -> None:
    graph = chain()
    router = graph["c"].to("*", name="router")
    assert isinstance(router, RouterStep)
    router.add_route("m1", class_name=Echo)
    copied = copy.deepcopy(graph) if copier == "deepcopy" else pickle.loads(pickle.dumps(graph))
    assert copied.to_dict() == graph.to_dict()
    copied_router = copied["router"]
    assert isinstance(copied_router, RouterStep)
    assert copied_router.parent is copied and copied_router.routes["m1"].parent is copied_router
    assert copied.last_added is copied_router
    copied.to(name="extra", handler="(event)")
    assert "extra" not in graph


def test_insert_step_takes_step_objects_and_dicts_under_new_keys() -> None:
    graph = chain()
    added = graph.insert_step("d", {"handler": "(event)"}, after="c")
    assert isinstance(added, TaskStep) and added.after == ["c"] and graph.last_added is added
    with pytest.raises(GraphError, match="step 'd': a step named 'd' already exists in graph"):
        graph.insert_step("d", TaskStep(handler="h"))


def test_path_to_step_with_dotted_step_names() -> None:
    graph = RootFlowStep()
    step = graph.to("mypkg.Echo")
    sub = graph.add_step(FlowStep(), name="sub")
    assert isinstance(sub, FlowStep)
    inner = sub.to("other.Step")
    assert graph.path_to_step("mypkg.Echo") is step
    assert graph.path_to_step("sub.other.Step") is inner
    with pytest.raises(GraphError, match=r"no step 'mypkg' in path 'mypkg\.Nope'"):
        graph.path_to_step("mypkg.Nope")


def test_set_flow_replaces_the_steps_with_a_chain() -> None:
    graph = RootFlowStep()
    graph.to(name="old", handler="(event + 1)")
    with pytest.raises(GraphError, match="force=True"):
        graph.set_flow([dict(name="new", handler="(event + 10)")])
    last = graph.set_flow(
        [dict(name="a", handler="(event + 10)"), dict(name="b", handler="json.dumps")],
        force=True,
    )
    assert last.name == "b" and list(graph.steps) == ["a", "b"]
    assert graph["b"].after == ["a"] and graph["a"].after == []
