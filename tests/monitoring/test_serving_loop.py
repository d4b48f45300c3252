"""The loop end to end: a V2 serving function with tracking -> stream -> monitoring job.

Mirrors no single module: it checks that the serving core's tracker contract
(``spec["tracking"]`` -> ``StreamTracker``, one record per model request) and the
monitoring job fit together, with the sync mock server (records logged from the
caller's thread, flushed on the server's background loop) and with the async
engine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import servegraph as sg
from servegraph.monitoring.drift import DriftStatus
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.monitoring.job import MonitoringJob
from servegraph.serving import V2ModelServer
from servegraph.serving.event import Event
from servegraph.streams import get_stream

from .data import FEATURES, reference_frame


class SumModel(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return [sum(row) for row in request["inputs"]]


def serving_function(stream: str, engine: str = "sync") -> Any:
    fn = sg.new_function("churn-serving", kind="serving", project="churn")
    if engine == "sync":
        fn.set_topology("router")
    else:
        fn.set_topology("flow", engine="async").to("ModelRouter", name="router").respond()
    fn.add_model("m1", class_name=SumModel)
    fn.set_tracking(stream_path=stream, batch=16)
    return fn


async def _records(url: str) -> list[dict[str, Any]]:
    stream = get_stream(url)
    out: list[dict[str, Any]] = []
    while batch := await stream.read("peek", "c", count=1000):
        out.extend(r.data for r in batch)
    await stream.close()
    return out


@pytest.mark.parametrize("engine", ["sync", "async"])
async def test_served_requests_are_logged_once_and_drift_is_measured(
    tmp_path: Path, engine: str
) -> None:
    url = str(tmp_path / "endpoints")
    server = serving_function(url, engine).to_mock_server(track_models=True)
    rng = np.random.default_rng(5)
    rows = rng.normal(0.0, 1.0, (300, 3))
    rows[:, 2] += 2.0  # feature c drifted in production

    def traffic() -> None:
        for i in range(0, 300, 3):
            body = {"id": f"req-{i}", "inputs": rows[i : i + 3].tolist()}
            assert server.test("/v2/models/m1/infer", body=body)["outputs"]
        server.test("/v2/models/m1/infer", body={"inputs": "not rows"}, silent=True)
        server.wait_for_completion()  # flushes the tracker

    await asyncio.to_thread(traffic)
    logged = await _records(url)
    assert len(logged) == 101
    assert [r["request_id"] for r in logged[:100]] == [f"req-{i}" for i in range(0, 300, 3)]
    assert logged[-1]["error"] and all(r["error"] is None for r in logged[:100])
    endpoint_id = logged[0]["endpoint_id"]
    assert {r["endpoint_id"] for r in logged} == {endpoint_id}

    EndpointRegistry().register(
        ModelEndpoint(id=endpoint_id, project="churn", feature_names=FEATURES),
        reference=reference_frame(),
    )
    report = await MonitoringJob(stream_path=url, window="1d", plots=False).run()
    (window,) = report.windows
    assert (window.requests, window.rows, window.errors) == (101, 300, 1)
    assert window.status is DriftStatus.DRIFT_DETECTED
    flagged = {f.feature for f in window.features if f.status is not DriftStatus.NO_DRIFT}
    assert flagged == {"c"}


async def test_async_server_lifecycle_starts_and_flushes_the_tracker(tmp_path: Path) -> None:
    url = str(tmp_path / "endpoints")
    fn = serving_function(url, "async")
    server = fn.to_mock_server(track_models=True)
    for i in range(40):
        await server.run_async(Event({"inputs": [[i, 0, 0]]}, path="/v2/models/m1/infer"))
    await server.close()
    assert [r["inputs"] for r in await _records(url)] == [[[i, 0, 0]] for i in range(40)]
