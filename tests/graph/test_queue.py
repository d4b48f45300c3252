"""Queue steps: fields, checks and their dict form."""

from __future__ import annotations

import pytest

from servegraph.errors import GraphError
from servegraph.graph import QueueStep, step_from_dict


def test_fields_and_options() -> None:
    queue = QueueStep(
        "q1",
        "kafka://broker:9092/topic",
        after="prep",
        shards=4,
        retention_in_hours=12,
        trigger_args={"max_workers": 2},
        batch=10,
    )
    assert (queue.name, queue.path, queue.after) == ("q1", "kafka://broker:9092/topic", ["prep"])
    assert (queue.shards, queue.retention_in_hours) == (4, 12)
    assert queue.trigger_args == {"max_workers": 2}
    assert queue.options == {"batch": 10}
    assert repr(queue) == "QueueStep(name='q1', path='kafka://broker:9092/topic')"


def test_dict_round_trip() -> None:
    queue = QueueStep("q1", "redis://127.0.0.1:6379/s", shards=2, batch=10)
    struct = queue.to_dict()
    assert struct == {
        "kind": "queue",
        "path": "redis://127.0.0.1:6379/s",
        "shards": 2,
        "options": {"batch": 10},
        "name": "q1",
    }
    again = step_from_dict(struct)
    assert isinstance(again, QueueStep) and again.to_dict() == struct


def test_no_path_is_allowed() -> None:
    assert QueueStep("q").to_dict() == {"kind": "queue", "name": "q"}


def test_empty_path_is_the_in_process_queue() -> None:
    # MLRun writes to("$queue", "q1", path="") for a queue that is no stream
    assert QueueStep("q", path="").path is None
    assert step_from_dict({"kind": "queue", "path": ""}, name="q").to_dict() == {
        "kind": "queue",
        "name": "q",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": 5}, "'path' must be a stream URL, got 5"),
        ({"shards": 0}, "'shards' must be a positive int, got 0"),
        ({"shards": True}, "'shards' must be a positive int, got True"),
        ({"retention_in_hours": -1}, "'retention_in_hours' must be a positive int, got -1"),
        ({"trigger_args": [1]}, "'trigger_args' must be a dict, got \\[1\\]"),
    ],
)
def test_bad_fields(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(GraphError, match="step 'q': " + message):
        QueueStep("q", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(GraphError, match=message):
        step_from_dict({"kind": "queue", **kwargs}, name="q")


def test_bad_options_in_dict_form() -> None:
    with pytest.raises(GraphError, match="'options' must be a dict"):
        step_from_dict({"kind": "queue", "options": "x"}, name="q")
