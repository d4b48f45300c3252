"""Fan-in and Merge: a step with several inlets runs per arrival; Merge joins by key."""

from __future__ import annotations

from typing import Any

import pytest

from servegraph.errors import GraphError, StepError
from servegraph.graph import RootFlowStep
from servegraph.serving.event import Event
from servegraph.serving.merge import Merge
from servegraph.serving.mock import create_mock_server


class Seen:
    """Records every body it gets (on the class: one list per test)."""

    bodies: list[Any] = []  # noqa: RUF012

    def do(self, body: Any) -> Any:
        Seen.bodies.append(body)
        return body


def split(engine: str) -> RootFlowStep:
    graph = RootFlowStep(engine=engine)
    graph.to(name="double", handler="(event * 2)")
    graph.add_step(name="add3", handler="(event + 3)", after="double")
    graph.add_step(name="add2", handler="(event + 2)", after="double")
    return graph


def test_a_step_with_two_inlets_runs_once_per_arriving_event(engine: str) -> None:
    Seen.bodies = []
    graph = split(engine)
    graph.add_step(Seen, name="seen", after=["add2", "add3"])
    server = create_mock_server({"graph": graph}, namespace=globals())
    for x in (5, 10):
        server.test(body=x)
    assert sorted(Seen.bodies) == [12, 13, 22, 23]


def test_merge_joins_the_branches_of_one_request_by_event_id(engine: str) -> None:
    graph = split(engine)
    graph.add_step(Merge(name="join"), after=["add2", "add3"]).respond()
    server = create_mock_server({"graph": graph})
    assert sorted(server.test(body=5)) == [12, 13]
    assert sorted(server.test(body=6)) == [14, 15]


def test_merge_by_key_path_of_the_body(engine: str) -> None:
    graph = RootFlowStep(engine=engine)
    graph.to(name="a", handler="(dict(event, a=1))")
    graph.add_step(name="b", handler="(dict(event, b=2))", after="$start")
    graph.add_step(Merge(name="join", key_path="event['key']"), after=["a", "b"]).respond()
    server = create_mock_server({"graph": graph})
    parts = server.test(body={"key": 7})
    assert sorted(parts, key=len) == [{"key": 7, "a": 1}, {"key": 7, "b": 2}]
    with pytest.raises(StepError, match="KeyError") as info:
        server.test(body={"no-key": 1})
    assert isinstance(info.value, RuntimeError)  # as MLRun's test() raises


def event(key: str, body: Any) -> Event:
    return Event(body, id=key)


def test_max_behind_drops_the_oldest_incomplete_key_and_its_late_parts() -> None:
    merge = Merge(max_behind=2)
    merge.set_inlets(2)
    assert merge.do_event(event("k1", 1)) is None
    assert merge.do_event(event("k2", 2)) is None
    assert merge.do_event(event("k3", 3)) is None  # k1 waited too long: dropped
    assert merge.do_event(event("k1", 10)) is None  # its late part is ignored
    joined = merge.do_event(event("k2", 20))
    assert joined is not None and joined.body == [2, 20]
    joined = merge.do_event(event("k3", 30))
    assert joined is not None and joined.body == [3, 30]


def test_expected_num_events_and_custom_merge_function() -> None:
    class Sum(Merge):
        def merge_function(self, last_event: Event, items: list[Any]) -> Any:
            return sum(item.body for item in items)

    merge = Sum(expected_num_events=3)
    merge.set_inlets(2)  # the explicit count wins
    assert merge.do_event(event("k", 1)) is None
    assert merge.do_event(event("k", 2)) is None
    joined = merge.do_event(event("k", 3))
    assert joined is not None and joined.body == 6
    single = Merge()
    single.set_inlets(1)  # one inlet: nothing to join
    assert single.do_event(event("k", 5)).body == 5  # type: ignore[union-attr]


@pytest.mark.parametrize("args", [{"max_behind": 0}, {"expected_num_events": "2"}])
def test_bad_parameters_are_rejected(args: dict[str, Any]) -> None:
    with pytest.raises(GraphError, match=next(iter(args))):
        Merge(**args)
