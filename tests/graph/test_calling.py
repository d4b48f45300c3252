"""The one rule for calling a class step (serving engines and feature-store rows)."""

from __future__ import annotations

import asyncio
import doctest
from typing import Any

import pytest
import storey

import servegraph.graph.calling
from servegraph.errors import GraphError
from servegraph.graph.calling import step_method


class Both:
    def do(self, body: Any) -> Any:
        return ("do", body)

    def do_event(self, event: Any) -> Any:
        return ("do_event", event)

    def named(self, body: Any) -> Any:
        return ("named", body)


class EventOnly:
    def do_event(self, event: Any) -> Any:
        return event


def test_doctest() -> None:
    assert doctest.testmod(servegraph.graph.calling).failed == 0


def test_order_handler_then_do_event_then_do() -> None:
    method, full = step_method(Both(), "named", "step 's'")
    assert (method(1), full) == (("named", 1), False)
    method, full = step_method(Both(), None, "step 's'")
    assert (method(1), full) == (("do_event", 1), True)
    with pytest.raises(GraphError, match="step 's': class Both has no method 'nope'"):
        step_method(Both(), "nope", "step 's'")


def test_rows_are_bodies() -> None:
    method, full = step_method(Both(), None, "step 's'", rows=True)
    assert (method(1), full) == (("do", 1), False)
    with pytest.raises(GraphError, match="rows need do"):
        step_method(EventOnly(), None, "step 'e'", rows=True)


def test_storey_map_and_extend_and_others() -> None:
    extend, _ = step_method(storey.Extend(lambda b: {"t": 1}), None, "step 'x'")
    assert extend({"a": 0}) == {"a": 0, "t": 1}
    mapped, _ = step_method(storey.Map(lambda b: b + 1), None, "step 'm'", rows=True)
    assert mapped(1) == 2
    with pytest.raises(GraphError, match="step 'o': class object has no do"):
        step_method(object(), None, "step 'o'")


class SlowAdd(storey.flow._ConcurrentJobExecution):
    """A storey concurrent-job step, as MLRun users write them."""

    def __init__(self, add: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add = add

    async def _process_event(self, event: Any) -> Any:
        await asyncio.sleep(0.01)
        return event.body + self.add


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_a_storey_concurrent_job_step_runs_its_process_event(engine: str) -> None:
    from servegraph.graph import RootFlowStep
    from servegraph.serving.mock import create_mock_server

    graph = RootFlowStep(engine=engine)
    graph.to(name="double", handler="(event * 2)").to(SlowAdd(add=3), name="add").respond()
    assert create_mock_server({"graph": graph}).test(body=5) == 13


def test_a_storey_concurrent_job_step_cannot_run_on_rows() -> None:
    with pytest.raises(GraphError, match="no do"):
        step_method(SlowAdd(), None, "step 'add'", rows=True)
