"""Graph behaviour through the compiled plan, the same on both engines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from servegraph.errors import BadRequestError, GraphError, StepError, StepTimeoutError
from servegraph.graph import RootFlowStep
from servegraph.serving.event import Event
from servegraph.serving.mock import MockServer, create_mock_server
from servegraph.serving.plan import compile_graph
from tests.serving import steps
from tests.serving.steps import Double, Inc, Tag


def serve(graph: RootFlowStep, engine: str, **params: Any) -> MockServer:
    graph.engine = engine
    return create_mock_server(
        {"graph": graph, "parameters": params}, name="fn", project="proj", namespace=globals()
    )


def local_handler(x: int) -> int:
    return x * 100


def test_class_steps_resolve_every_way(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="cls", by=2).to(Double(), name="instance").to(
        "tests.serving.steps.Inc", name="dotted"
    ).to("Double", name="namespace_name").to(handler="local_handler", name="h").to(
        handler="(event + 7)", name="expr"
    ).respond()
    assert serve(graph, engine).test(body=1) == ((((1 + 2) * 2 + 1) * 2) * 100) + 7


def test_handler_receives_context_keyword(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(handler=steps.with_context, name="ctx").respond()
    assert serve(graph, engine, p=5).test(body=3) == {"x": 3, "project": "proj", "param": 5}


def test_full_event_handler_and_paths(engine: str) -> None:
    def stamp(event: Event) -> Event:
        event.body["method"] = event.method
        return event

    graph = RootFlowStep()
    graph.to(handler=stamp, name="stamp", full_event=True).to(
        Inc, name="inc", input_path="data.x", result_path="out.y"
    ).respond()
    body = serve(graph, engine).test(body={"data": {"x": 1}})
    assert body == {"data": {"x": 1}, "method": "POST", "out": {"y": 2}}


def test_missing_input_path_is_bad_request(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="inc", input_path="data.x").respond()
    with pytest.raises(BadRequestError, match=r"data\.x"):
        serve(graph, engine).test(body={"data": {}})


def test_responder_in_the_middle_and_downstream_still_runs(engine: str) -> None:
    seen: list[Any] = []
    graph = RootFlowStep()
    graph.to(Inc, name="inc").respond().to(handler=lambda x: seen.append(x) or x * 10, name="log")
    assert serve(graph, engine).test(body=1) == 2
    assert seen == [2]


def test_without_responder_the_last_step_answers(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="inc").to(Double, name="double")
    assert serve(graph, engine).test(body=1) == 4


def test_fan_out_branches_get_copies_and_merge_waits_for_all(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Tag, name="start")
    graph.add_step(Tag, name="left", after="start")
    graph.add_step(Tag, name="right", after="start")
    graph.add_step(Tag, name="right2", after="right")
    graph.add_step("Merge", name="join", after=["left", "right2"]).respond()
    bodies = serve(graph, engine).test(body={"path": []})
    # each branch worked on its own copy; the Merge lists both, in arrival order
    paths = sorted(body["path"] for body in bodies)
    assert paths == [["start", "left"], ["start", "right", "right2"]]


def test_async_steps_are_awaited(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(steps.AsyncDouble, name="a").to(Inc, name="b").to(steps.AsyncDouble, name="c")
    assert serve(graph, engine).test(body=1) == 6


def test_step_failure_names_the_step(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="inc").to(steps.Boom, name="exploder").respond()
    server = serve(graph, engine)
    with pytest.raises(StepError, match="exploder") as info:
        server.test(body=1)
    assert info.value.status_code == 500
    assert info.value.step == "exploder"
    response = server.test(body=1, silent=True, get_body=False)
    assert response.status_code == 500
    assert "boom on 2" in response.body["error"]


def test_servegraph_errors_keep_their_status(engine: str) -> None:
    def reject(x: Any) -> Any:
        raise BadRequestError("x must be positive")

    graph = RootFlowStep()
    graph.to(handler=reject, name="check").respond()
    response = serve(graph, engine).test(body=-1, silent=True, get_body=False)
    assert (response.status_code, response.body) == (400, {"error": "x must be positive"})


def test_step_error_handler_gets_error_and_origin(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="inc").to(steps.Boom, name="exploder").error_handler(
        "catcher", handler=steps.catcher
    ).to(Double, name="never")
    body = serve(graph, engine).test(body=1)
    assert body == {"error": "boom on 2", "origin": "exploder"}


def test_error_handler_gets_the_exception_object(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(steps.Boom, name="exploder").error_handler("catcher", handler=steps.typed_catcher)
    assert serve(graph, engine).test(body=1) == {"value_error": True, "type": "ValueError"}


def test_graph_error_handler_catches_any_step(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="inc").to(steps.Boom, name="exploder").respond()
    graph.error_handler("catcher", handler=steps.catcher)
    assert serve(graph, engine).test(body=1)["origin"] == "exploder"


def test_error_handler_continues_before_a_step(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(steps.Boom, name="exploder").to(Inc, name="after_fix", by=41).respond()
    graph["exploder"].error_handler("fix", handler="(0)", before="after_fix", full_event=False)
    assert serve(graph, engine).test(body=1) == 41


def test_failing_error_handler_fails_the_request(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(steps.Boom, name="exploder").error_handler("also_boom", class_name=steps.Boom)
    with pytest.raises(StepError, match="also_boom"):
        serve(graph, engine).test(body=1)


@pytest.mark.parametrize("step_class", [steps.Sleep, steps.AsyncSleep])
def test_step_timeout(engine: str, step_class: type) -> None:
    graph = RootFlowStep()
    graph.to(step_class, name="slow", seconds=0.5).respond()
    graph["slow"].timeout = 0.05  # type: ignore[attr-defined]
    with pytest.raises(StepTimeoutError, match="slow") as info:
        serve(graph, engine).test(body=1)
    assert info.value.status_code == 504


def test_timeout_goes_to_the_error_handler(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(steps.AsyncSleep, name="slow", seconds=0.5).error_handler(
        "catcher", handler=steps.catcher
    )
    graph["slow"].timeout = 0.05  # type: ignore[attr-defined]
    body = serve(graph, engine).test(body=1)
    assert body["origin"] == "slow" and "timeout" in body["error"]


def test_a_sync_step_outliving_its_timeout_never_touches_the_handled_event(engine: str) -> None:
    steps.Gated.gate.clear()
    steps.Gated.done.clear()
    caught: list[Event] = []

    def keep(event: Event) -> Event:
        caught.append(event)
        event.body = {"origin": event.origin_state}
        return event

    graph = RootFlowStep()
    graph.to(steps.Gated, name="late", full_event=True).error_handler("keep", handler=keep)
    graph["late"].timeout = 0.05  # type: ignore[attr-defined]
    try:
        assert serve(graph, engine).test(body=1) == {"origin": "late"}
    finally:
        steps.Gated.gate.set()
    assert steps.Gated.done.wait(5)  # the abandoned step finished in its thread...
    assert caught[0].body == {"origin": "late"}  # ...without overwriting the request's event


def test_step_within_its_timeout_answers(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="quick").respond()
    graph["quick"].timeout = 5  # type: ignore[attr-defined]
    assert serve(graph, engine).test(body=1) == 2


def test_bad_timeout_is_rejected_at_init() -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="quick")
    graph["quick"].timeout = -1  # type: ignore[attr-defined]
    with pytest.raises(GraphError, match="quick"):
        serve(graph, "sync")


def test_in_process_queue_passes_events_on(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="inc").to(">>", name="q", path=None).to(Double, name="double").respond()
    assert serve(graph, engine).test(body=1) == 4


def test_nested_flow_runs_as_one_step(engine: str) -> None:
    inner = RootFlowStep()
    inner.to(Inc, name="i1").to(Double, name="i2")
    graph = RootFlowStep()
    graph.to(Inc, name="outer")
    graph.insert_step("sub", inner, after="outer")
    graph.add_step(Inc, name="last", after="sub", by=10).respond()
    assert serve(graph, engine).test(body=1) == ((1 + 1 + 1) * 2) + 10


def test_unknown_class_fails_at_init_naming_the_step() -> None:
    graph = RootFlowStep()
    graph.to("NoSuchClass", name="ghost")
    with pytest.raises(GraphError, match="NoSuchClass"):
        serve(graph, "sync")


def test_class_argument_not_accepted_fails_at_init() -> None:
    graph = RootFlowStep()
    graph.to(Double, name="d", factor=3)
    with pytest.raises(GraphError, match="factor"):
        serve(graph, "sync")


def test_cycle_fails_at_init() -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="a").to(Inc, name="b")
    graph["a"].after = ["b"]
    with pytest.raises(GraphError):
        serve(graph, "sync")


def test_plan_is_a_chain_for_a_straight_line() -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="a").to(Double, name="b").respond()
    plan = compile_graph(graph, context=None)
    assert plan.chain is not None and [node.name for node in plan.chain] == ["a", "b"]
    graph.add_step(Inc, name="c", after="a")
    assert compile_graph(graph, context=None).chain is None


async def test_parallel_branches_run_concurrently_on_the_async_engine() -> None:
    arrived: list[str] = []
    both = asyncio.Event()

    async def meet(x: int) -> int:
        arrived.append("x")
        if len(arrived) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)  # deadlocks (then fails) if run one by one
        return x

    graph = RootFlowStep(engine="async")
    graph.to(Inc, name="a")
    graph.add_step(handler=meet, name="left", after="a")
    graph.add_step(handler=meet, name="right", after="a")
    graph.add_step("Merge", name="m", after=["left", "right"]).respond()
    server = create_mock_server({"graph": graph}, namespace=globals())
    assert (await server.run_async(Event(1))).body == [2, 2]
    await server.close()


class FakeStream:
    """Stands in for servegraph.streams.get_stream(url) (built on the monitor branch)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pushed: list[Any] = []

    async def push(self, records: list[Any]) -> list[str]:
        self.pushed.extend(records)
        return [str(len(self.pushed))]


def test_queue_step_pushes_the_body_to_its_stream(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import servegraph.streams

    streams: dict[str, FakeStream] = {}
    monkeypatch.setattr(
        servegraph.streams,
        "get_stream",
        lambda url: streams.setdefault(url, FakeStream(url)),
        raising=False,
    )
    graph = RootFlowStep()
    graph.to(Inc, name="inc").to(">>", name="q", path="redis://127.0.0.1:6379/s").to(
        Double, name="double"
    ).respond()
    assert serve(graph, engine).test(body=1, event_id="e1") == 4
    # the body in an envelope with the event id (the consumer's idempotency key)
    assert streams["redis://127.0.0.1:6379/s"].pushed == [
        {"_event_id": "e1", "body": 2, "path": "/"}
    ]


def build_wide_graph(engine: str) -> RootFlowStep:
    """Branches, an async step, a merge, a nested error path: a bit of everything."""
    graph = RootFlowStep(engine=engine)
    graph.to(Tag, name="start")
    graph.add_step(handler=lambda b: {**b, "n": b["n"] + 1}, name="plus", after="start")
    graph.add_step(steps.AsyncDouble, name="adouble", after="plus", input_path="n", result_path="d")
    graph.add_step(Tag, name="side", after="start")
    graph.add_step(
        handler=lambda b: (_ for _ in ()).throw(ValueError("odd")) if b["n"] % 2 else b,
        name="even_only",
        after="side",
    )
    graph.add_step(handler=lambda b: {**b, "fixed": True}, name="fix", after=[], full_event=False)
    graph["even_only"].on_error = "fix"
    graph.add_step("Merge", name="join", after=["adouble", "even_only"]).respond()
    return graph


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_both_engines_give_the_same_results(n: int) -> None:
    results = []
    for engine in ("sync", "async"):
        server = serve(build_wide_graph(engine), engine)
        result = server.test(body={"n": n, "path": []}, silent=True)
        # the Merge lists the parts in arrival order, which concurrency may change
        results.append(sorted(result, key=str) if isinstance(result, list) else result)
    assert results[0] == results[1]
    if n % 2:
        assert results[0] == {"n": n, "path": ["start", "side"], "fixed": True}
    else:
        assert [part["d"] for part in results[0] if "d" in part] == [(n + 1) * 2]


def test_an_empty_flow_returns_the_body(engine: str) -> None:
    assert serve(RootFlowStep(), engine).test(body={"a": 1}) == {"a": 1}


def test_storey_map_and_extend_steps(engine: str) -> None:
    graph = RootFlowStep()
    graph.to("storey.Extend", name="tag", _fn="({'tag': 1})").to(
        "storey.Map", name="count", _fn="(len(event))"
    ).respond()
    assert serve(graph, engine).test(body={"a": 0}) == 2


@pytest.mark.parametrize(
    ("class_name", "match"),
    [
        ("storey.Filter", "storey.Filter is not supported"),
        ("tests.serving.steps.RecordingTracker", "no do"),
    ],
)
def test_classes_without_a_step_method_are_rejected(class_name: str, match: str) -> None:
    graph = RootFlowStep()
    graph.to(class_name, name="s", **({"_fn": "(True)"} if "storey" in class_name else {}))
    with pytest.raises(GraphError, match=match):
        serve(graph, "sync")


def test_steps_run_in_edge_order_not_insertion_order(engine: str) -> None:
    # "first" is added last but inserted before "second": it must run first
    graph = RootFlowStep()
    graph.add_step("tests.serving.steps.Tag", name="second")
    graph.add_step("tests.serving.steps.Tag", name="first", before="second")
    graph.add_step("tests.serving.steps.Tag", name="third", after="second")
    assert serve(graph, engine).test(body={})["path"] == ["first", "second", "third"]


def test_insertion_in_the_middle_of_a_chain_runs_in_edge_order(engine: str) -> None:
    graph = RootFlowStep()
    graph.add_step("tests.serving.steps.Tag", name="a")
    graph.add_step("tests.serving.steps.Tag", name="c", after="$prev")
    graph.add_step("tests.serving.steps.Tag", name="b", after="a", before="c")
    server = serve(graph, engine)
    assert server.test(body={})["path"] == ["a", "b", "c"]
    assert [node.name for node in server.plan.nodes] == ["a", "b", "c"]  # type: ignore[union-attr]


def test_router_step_reads_input_path_and_writes_result_path(engine: str) -> None:
    graph = RootFlowStep()
    router = graph.to("*", name="r", input_path="req", result_path="resp")
    router.add_route("m1", class_name="tests.serving.steps.Sum")  # type: ignore[attr-defined]
    router.respond()
    body = serve(graph, engine).test("/v2/models/m1/infer", {"req": {"inputs": [[2, 3]]}, "k": 1})
    assert body["k"] == 1 and body["req"] == {"inputs": [[2, 3]]}
    assert body["resp"]["outputs"] == [5]
