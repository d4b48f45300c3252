"""Event, MockEvent and Response."""

from __future__ import annotations

from servegraph.serving.event import Event, MockEvent, Response


def test_event_defaults_and_lazy_unique_ids() -> None:
    get = Event()
    assert (get.method, get.path, get.headers, get.error, get.origin_state) == (
        "GET",
        "/",
        {},
        None,
        None,
    )
    a, b = Event(1), Event(1)
    assert a.method == "POST" and a.id != b.id and a.id == a.id
    assert Event(id="x").id == "x"


def test_copy_is_independent_when_deep() -> None:
    event = MockEvent(body={"a": [1]}, path="/p", event_id="e")
    deep = event.copy(deep=True)
    deep.body["a"].append(2)
    assert event.body == {"a": [1]} and deep.id == "e" and deep.path == "/p"
    assert isinstance(deep, MockEvent)
    assert event.copy(body=5).body == 5


def test_response_fields() -> None:
    response = Response({"x": 1}, status_code=201, content_type="application/json")
    assert (response.body, response.status_code, response.headers) == ({"x": 1}, 201, {})
    assert "201" in repr(response)
