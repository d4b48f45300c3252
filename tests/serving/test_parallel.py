"""ParallelRun: every route on its own copy of the event, answers merged in route order."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

import servegraph as sg
from servegraph.errors import GraphError
from servegraph.serving.parallel import ParallelRun, ParallelRunnerModes
from servegraph.serving.sync_bridge import run_coroutine


class Double:
    def __init__(self, field: str = "x", context: Any = None, name: str | None = None) -> None:
        self.field, self.context, self.name = field, context, name

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        body[self.field] = body.get(self.field, 0) * 2  # mutates its copy only
        return {"double": body[self.field], "pid": os.getpid(), "thread": threading.get_ident()}


class Square:
    def __init__(self, context: Any = None, name: str | None = None) -> None:
        self.context = context

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"square": body["x"] ** 2, "pid": os.getpid()}


def add_one(body: dict[str, Any]) -> dict[str, Any]:
    return {"plus": body["x"] + 1}


def parallel_function(mode: str, extend_event: bool | None = None, handler: bool = True) -> Any:
    fn = sg.new_function("parallel", kind="serving")
    graph = fn.set_topology("router", ParallelRun(extend_event=extend_event, executor_type=mode))
    graph.add_route("double", class_name=Double)
    graph.add_route("square", class_name=Square)
    if handler:
        graph.add_route("plus", handler=add_one)
    return fn


@pytest.mark.parametrize("mode", ["array", "thread"])
def test_routes_run_on_copies_and_answers_merge(mode: str) -> None:
    server = parallel_function(mode, extend_event=True).to_mock_server()
    out = server.test("", body={"x": 8})
    assert (out["x"], out["double"], out["square"], out["plus"]) == (8, 16, 64, 9)
    run_coroutine(server.close())


def test_without_extend_event_only_the_answers_remain() -> None:
    server = parallel_function("array").to_mock_server()
    out = server.test("", body={"x": 3})
    assert "x" not in out and (out["double"], out["square"], out["plus"]) == (6, 9, 4)


def test_thread_mode_runs_routes_in_pool_threads() -> None:
    server = parallel_function("thread", handler=False).to_mock_server()
    out = server.test("", body={"x": 2})
    assert out["thread"] != threading.get_ident()
    run_coroutine(server.close())


def test_process_mode_runs_class_routes_in_other_processes() -> None:
    server = parallel_function("process", handler=False).to_mock_server()
    out = server.test("", body={"x": 5})
    assert (out["double"], out["square"]) == (10, 25)
    assert out["pid"] != os.getpid()
    run_coroutine(server.close())


def test_process_mode_refuses_handler_routes() -> None:
    with pytest.raises(GraphError, match=r"needs class routes; \['plus'\] are handlers"):
        parallel_function("process").to_mock_server()


def test_merger_can_be_overridden() -> None:
    class Collect(ParallelRun):
        def merger(self, body: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
            return {"routes": sorted(results)}

    fn = sg.new_function("collect", kind="serving")
    graph = fn.set_topology("router", Collect(executor_type=ParallelRunnerModes.array))
    graph.add_route("a", handler=add_one)
    graph.add_route("b", handler=add_one)
    assert fn.to_mock_server().test("", body={"x": 1}) == {"routes": ["a", "b"]}


def test_a_non_dict_answer_is_named() -> None:
    fn = sg.new_function("bad", kind="serving")
    graph = fn.set_topology("router", ParallelRun(executor_type="array"))
    graph.add_route("num", handler="(event['x'])")
    response = fn.to_mock_server().test("", body={"x": 1}, silent=True, get_body=False)
    assert response.status_code == 400 and "route 'num' answered a int" in response.body["error"]


def test_modes_and_bad_mode() -> None:
    assert [m.value for m in ParallelRunnerModes.all()] == ["thread", "process", "array"]
    with pytest.raises(GraphError, match="'executor_type' parameter of ParallelRun"):
        ParallelRun(executor_type="gpu")


def test_reachable_where_mlrun_code_looks() -> None:
    from servegraph.serving import routers

    assert (
        routers.ParallelRun is ParallelRun and sg.serving.ParallelRunnerModes is ParallelRunnerModes
    )
