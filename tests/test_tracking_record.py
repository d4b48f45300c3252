"""The tracking record has one typed home that serving builds and monitoring reads."""

from __future__ import annotations

import doctest
from typing import Any

import servegraph as sg
from servegraph import tracking_record
from servegraph.monitoring.records import flatten, problem
from servegraph.serving import V2ModelServer
from servegraph.tracking_record import TrackingRecord


class Echo(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


class Keep:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def log(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def test_the_docstring() -> None:
    assert doctest.testmod(tracking_record).failed == 0


def test_serving_builds_exactly_the_typed_record_and_monitoring_reads_it() -> None:
    fn = sg.new_function("rec", kind="serving", project="p")
    fn.set_topology("router")
    fn.add_model("m", class_name=Echo)
    server = fn.to_mock_server()
    keep = Keep()
    server.context.tracker = keep
    server.test("/v2/models/m/infer", body={"inputs": [[1.0, 2.0]], "id": "r1"})
    (record,) = keep.records
    assert set(TrackingRecord.__required_keys__) <= set(record)
    assert set(record) <= set(TrackingRecord.__annotations__)
    assert problem(record) is None
    (frame,) = flatten([("0", record)], {}).values()
    assert frame["request_id"].tolist() == ["r1"] and frame["f1"].tolist() == [2.0]
    server.wait_for_completion()
