"""set_tracking's MLRun arguments: sampling_percentage samples, stream_args reach the stream."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import redis

import servegraph as sg
from servegraph.errors import GraphError
from servegraph.serving.v2_serving import V2ModelServer
from servegraph.streams import get_stream


class Echo(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


def tracked_function(**tracking: Any) -> Any:
    fn = sg.new_function("tracked", kind="serving", project="p")
    fn.add_model("m", class_name=Echo)
    fn.set_tracking(**tracking)
    return fn


async def stream_records(url: str) -> list[dict[str, Any]]:
    stream = get_stream(url)
    out: list[dict[str, Any]] = []
    while batch := await stream.read("peek", "c", count=1000):
        out.extend(r.data for r in batch)
    await stream.close()
    return out


def test_sampling_percentage_keeps_that_share_of_the_records(tmp_path: Path) -> None:
    url = str(tmp_path / "s25")
    server = tracked_function(stream_path=url, sampling_percentage=25).to_mock_server(
        track_models=True
    )
    for i in range(100):
        server.test("/v2/models/m/infer", body={"id": f"r{i}", "inputs": [i]})
    server.wait_for_completion()
    records = asyncio.run(stream_records(url))
    assert len(records) == 25
    assert [r["inputs"] for r in records] == [[i] for i in range(0, 100, 4)]


def test_sampling_percentage_100_keeps_everything_and_tracking_can_be_disabled(
    tmp_path: Path,
) -> None:
    fn = tracked_function(stream_path=str(tmp_path / "all"), sampling_percentage=100)
    assert fn.spec.tracking["sample"] is None
    fn.set_tracking(enable_tracking=False)
    assert fn.spec.tracking is None
    assert fn.to_mock_server(track_models=True).context.tracker is None


def test_bad_sampling_arguments_are_named() -> None:
    with pytest.raises(GraphError, match="'sampling_percentage' parameter of set_tracking"):
        tracked_function(sampling_percentage=0)
    with pytest.raises(GraphError, match="not both"):
        tracked_function(sample=2, sampling_percentage=50)


def test_stream_args_reach_the_redis_stream(redis_url: str, unique: str) -> None:
    url = f"{redis_url}/track-{unique}"
    server = tracked_function(stream_path=url, batch=5, stream_args={"maxlen": 10}).to_mock_server(
        track_models=True
    )
    for i in range(60):
        server.test("/v2/models/m/infer", body={"inputs": [i]})
    server.wait_for_completion()
    client = redis.Redis.from_url(redis_url)
    try:
        # MAXLEN ~10 trims approximately: far fewer than the 60 records written
        assert 0 < client.xlen(f"track-{unique}") < 60
    finally:
        client.delete(f"track-{unique}")
        client.close()
