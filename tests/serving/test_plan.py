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
    body = serve(graph, engine).test(body={"path": []})
    # dict bodies merge in 'after' order: right2's path wins the key
    assert body == {"path": ["start", "right", "right2"]}


def test_merge_of_non_dict_bodies_is_the_list_in_after_order(engine: str) -> None:
    graph = RootFlowStep()
    graph.to(Inc, name="a")
    graph.add_step(Double, name="b", after="a")
    graph.add_step(handler="(event * 10)", name="c", after="a")
    graph.add_step("Merge", name="m", after=["c", "b"]).respond()
    assert serve(graph, engine).test(body=1) == [20, 4]


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
