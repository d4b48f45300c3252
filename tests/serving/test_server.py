"""GraphServer: spec dicts, run / run_async, health, errors, lifecycle, tracker."""

from __future__ import annotations

from typing import Any

import pytest

from servegraph.errors import BadRequestError, GraphError, NotReadyError, StepError
from servegraph.graph import RootFlowStep
from servegraph.serving.context import GraphContext
from servegraph.serving.event import Event, Response
from servegraph.serving.server import GraphServer, ServerState
from tests.serving import steps
from tests.serving.steps import RecordingTracker


def flow_spec(engine: str) -> dict[str, Any]:
    graph = RootFlowStep(engine=engine)
    graph.to("tests.serving.steps.Inc", name="inc", by=2).to(
        "tests.serving.steps.Double", name="double"
    ).respond()
    return {
        "version": "v2",
        "parameters": {"p": 1},
        "graph": graph.to_dict(),
        "load_mode": "sync",
        "verbose": True,
        "function_uri": "proj/fn:latest",
    }


async def test_server_from_a_spec_dict_runs_async(engine: str) -> None:
    server = GraphServer(flow_spec(engine))
    server.init_states()
    assert (server.context.project, server.context.name) == ("proj", "fn")
    assert server.context.get_param("p") == 1
    response = await server.run_async(Event(body=1))
    assert (response.body, response.status_code) == (6, 200)
    await server.close()
    assert server.state is ServerState.CLOSED


def test_server_run_from_sync_code(engine: str) -> None:
    server = GraphServer.from_dict(flow_spec(engine))
    server.init_states()
    assert server.run(Event(body=2)).body == 8
    assert server.to_dict()["graph"]["steps"]["inc"]["class_args"] == {"by": 2}


def test_json_decoding() -> None:
    server = GraphServer(flow_spec("sync"))
    server.init_states()
    assert server.run(Event(body=b"3", content_type="application/json")).body == 10
    with pytest.raises(BadRequestError, match="JSON"):
        server.run(Event(body=b"{oops", content_type="application/json"))


def test_a_step_can_return_a_response() -> None:
    graph = RootFlowStep(engine="sync")
    graph.to(handler=lambda x: Response({"made": x}, status_code=201), name="r").respond()
    server = GraphServer({"graph": graph})
    server.init_states()
    response = server.run(Event(body=1))
    assert (response.status_code, response.body) == (201, {"made": 1})


async def test_run_raises_servegraph_errors(engine: str) -> None:
    graph = RootFlowStep(engine=engine)
    graph.to(steps.Boom, name="b")
    server = GraphServer({"graph": graph})
    server.init_states()
    with pytest.raises(StepError) as info:
        await server.run_async(Event(body=1))
    assert info.value.status_code == 500 and info.value.step == "b"


async def test_close_runs_close_hooks_and_the_tracker_lifecycle() -> None:
    steps.Closing.closed.clear()
    RecordingTracker.instances.clear()
    graph = RootFlowStep()
    graph.to(steps.Closing, name="c1").to(steps.Closing, name="c2")
    server = GraphServer(
        {"graph": graph, "tracking": {"class": "tests.serving.steps:RecordingTracker"}}
    )
    server.init_states()
    tracker = RecordingTracker.instances[-1]
    assert server.context.tracker is tracker
    await server.run_async(Event(body=1))
    await server.run_async(Event(body=1))
    assert tracker.started == 1
    await server.close()
    await server.close()
    assert steps.Closing.closed == ["c1", "c2"] and tracker.closed == 1
    with pytest.raises(NotReadyError):
        await server.run_async(Event(body=1))


async def test_a_failing_close_hook_does_not_skip_the_others_or_the_tracker() -> None:
    steps.Closing.closed.clear()
    RecordingTracker.instances.clear()
    graph = RootFlowStep()
    graph.to(steps.FailingClose, name="f1").to(steps.Closing, name="c2")
    server = GraphServer(
        {"graph": graph, "tracking": {"class": "tests.serving.steps:RecordingTracker"}}
    )
    server.init_states()
    await server.run_async(Event(body=1))
    with pytest.raises(StepError, match=r"'f1'.*OSError: disk gone"):
        await server.close()
    assert steps.Closing.closed == ["f1", "c2"]
    assert RecordingTracker.instances[-1].closed == 1


async def test_run_before_init_is_not_ready() -> None:
    server = GraphServer(flow_spec("async"))
    with pytest.raises(NotReadyError, match="init_states"):
        await server.run_async(Event(body=1))


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({}, "graph"),
        ({"graph": {"kind": "flow", "steps": {}}, "load_mode": "lazy"}, "load_mode"),
        (
            {"graph": {"kind": "flow", "steps": {}}, "tracking": {"class": "nomodule"}},
            "tracking",
        ),
        (
            {"graph": {"kind": "flow", "steps": {}}, "tracking": {"class": "no.such:Tracker"}},
            "no.such:Tracker",
        ),
    ],
)
def test_bad_specs_raise_graph_errors(spec: dict[str, Any], match: str) -> None:
    with pytest.raises(GraphError, match=match):
        GraphServer(spec).init_states()


def test_an_explicit_context_is_used() -> None:
    context = GraphContext(name="given", project="p2")
    server = GraphServer(flow_spec("sync"))
    server.init_states(context=context)
    assert server.context is context and context.server is server
    assert context.get_param("p") == 1 and context.root is server.graph


def test_response_content_types() -> None:
    graph = RootFlowStep(engine="sync")
    graph.to(handler="(str(event))", name="s").respond()
    server = GraphServer({"graph": graph})
    server.init_states()
    response = server.run(Event(body=b"[1]", content_type="application/json"))
    assert (response.body, response.content_type) == ("[1]", "text/plain")


def test_verbose_servers_log_each_event(caplog: pytest.LogCaptureFixture) -> None:
    server = GraphServer(flow_spec("sync"))  # verbose: True
    server.init_states()
    with caplog.at_level("INFO", logger="servegraph.serving"):
        server.run(Event(body=1, path="/x", id="ev-9"))
    assert "ev-9" in caplog.text and "/x" in caplog.text


def test_steps_share_the_context_scratch_space() -> None:
    def count(x: int, context: Any = None) -> int:
        context.visits["n"] = context.visits.get("n", 0) + 1
        return int(context.visits["n"])

    graph = RootFlowStep(engine="sync")
    graph.to(handler=count, name="c").respond()
    server = GraphServer({"graph": graph})
    server.init_states()
    assert [server.run(Event(body=0)).body for _ in range(3)] == [1, 2, 3]


def test_a_flow_keeps_a_body_declared_as_text_and_a_model_path_reads_json() -> None:
    graph = RootFlowStep(engine="sync")
    graph.to(handler="builtins.repr", name="kind").respond()
    server = GraphServer({"graph": graph})
    server.init_states()
    as_text = Event(body="[1,2]", content_type="text/plain")
    assert server.run(as_text).body == "'[1,2]'"  # kept as sent (MLRun)
    assert server.run(Event(body="[1,2]")).body == "[1, 2]"  # undeclared JSON is decoded
    assert server.run(Event(body="[1,2]", content_type="application/json")).body == "[1, 2]"
    model = Event(body='{"inputs": [[1]]}', content_type="text/plain", path="/v2/models/m/infer")
    assert server.run(model).body == "{'inputs': [[1]]}"  # model paths are JSON by protocol


def test_get_slash_reaches_a_model_step_in_a_flow() -> None:
    graph = RootFlowStep(engine="sync")
    graph.to("tests.serving.steps.Sum", name="my2").respond()
    server = GraphServer({"graph": graph})
    server.init_states()
    assert server.run(Event(method="GET", path="/")).body["name"] == "my2"
