"""Live traffic: the dashboard follows a real tracking stream (file log) on its own group."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from aiohttp.test_utils import TestClient, TestServer

from servegraph.config import get_config
from servegraph.streams import get_stream
from servegraph.ui import make_app
from servegraph.ui.live import LiveTraffic


def record(endpoint: str, seconds_ago: float, latency: float, error: str | None = None) -> dict:
    when = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return {
        "endpoint_id": endpoint,
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "latency_ms": latency,
        "error": error,
        "inputs": [[1.0]],
        "outputs": [0],
    }


async def test_live_stats_of_the_last_minutes(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/streams/model-endpoints"
    stream = get_stream(url)
    latencies = [float(x) for x in range(1, 41)]
    await stream.push([record("ep1", 10, lat, "boom" if lat <= 4 else None) for lat in latencies])
    await stream.push([record("ep1", 3600, 999.0), record("ep2", 5, 7.0)])  # too old; other ep
    async with TestClient(TestServer(make_app(get_config(), live_stream=url))) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            live = await (await client.get("/api/endpoints/ep1/live")).json()
            if live["requests"] == 40:
                break
            await asyncio.sleep(0.2)
        assert live["requests"] == 40 and live["span_s"] == 300
        assert live["rate_per_min"] == 40 / 5
        assert live["latency_p50"] == float(np.quantile(latencies, 0.5))
        assert live["latency_p99"] == float(np.quantile(latencies, 0.99))
        assert live["error_rate"] == 4 / 40
        other = await (await client.get("/api/endpoints/ep2/live")).json()
        assert other["requests"] == 1
        await stream.push([record("ep1", 1, 50.0)])  # keeps following
        while time.monotonic() < deadline:
            live = await (await client.get("/api/endpoints/ep1/live")).json()
            if live["requests"] == 41:
                break
            await asyncio.sleep(0.2)
        assert live["requests"] == 41
    # the monitoring job's group still gets every record
    assert len(await stream.read("monitoring", "job", count=100)) == 43
    await stream.close()


async def test_live_is_off_without_a_stream() -> None:
    async with TestClient(TestServer(make_app(get_config()))) as client:
        assert await (await client.get("/api/endpoints/x/live")).json() == {"enabled": False}


def test_old_requests_leave_the_span() -> None:
    now = [1000.0]
    live = LiveTraffic("file:///unused", span=60, clock=lambda: now[0])
    live.add({"endpoint_id": "e", "timestamp": "1970-01-01T00:16:30Z", "latency_ms": 1})
    live.add({"endpoint_id": "e", "timestamp": "1970-01-01T00:16:39Z", "latency_ms": 2})
    live.add({"endpoint_id": "e", "timestamp": "1970-01-01T00:10:00Z", "latency_ms": 3})
    live.add({"timestamp": "1970-01-01T00:16:39Z"})  # no endpoint
    assert live.stats("e")["requests"] == 2
    now[0] = 1055.0
    assert live.stats("e")["requests"] == 1 and live.stats("e")["latency_p50"] == 2.0
