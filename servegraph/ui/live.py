"""Live traffic of the model endpoints: the tracking stream's last minutes, per endpoint.

A background task of the dashboard reads the tracking stream as its own
consumer group (``dashboard-live``; the monitoring job's progress is not
touched) and keeps, per endpoint, the requests of the last ``span`` seconds
(by their timestamp): request rate, p50 / p99 latency and error rate, now,
without waiting for the monitoring job's windows.

>>> live = LiveTraffic("file:///tmp/streams/model-endpoints", span=60, clock=lambda: 100.0)
>>> live.add({"endpoint_id": "ep", "timestamp": "1970-01-01T00:01:30Z", "latency_ms": 4.0})
>>> live.stats("ep")["requests"]
1
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import numpy as np

from servegraph.errors import ServegraphError
from servegraph.streams import get_stream

logger = logging.getLogger(__name__)
GROUP = "dashboard-live"


def _epoch(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class LiveTraffic:
    """Per endpoint: (time, latency, failed) of the requests of the last ``span`` seconds."""

    def __init__(
        self,
        stream_url: str,
        span: float = 300.0,
        clock: Callable[[], float] = time.time,
        max_per_endpoint: int = 100_000,
    ) -> None:
        self.stream_url = stream_url
        self.span = span
        self.clock = clock
        self.max_per_endpoint = max_per_endpoint
        self.records = 0
        self.error: str | None = None
        self._seen: dict[str, deque[tuple[float, float | None, bool]]] = {}

    def add(self, data: dict[str, Any]) -> None:
        """Count one tracking record (ignored if it has no endpoint or time, or is too old)."""
        endpoint, when = data.get("endpoint_id"), _epoch(data.get("timestamp"))
        if not isinstance(endpoint, str) or when is None or when < self.clock() - self.span:
            return
        latency = data.get("latency_ms")
        number = float(latency) if isinstance(latency, int | float) else None
        seen = self._seen.setdefault(endpoint, deque(maxlen=self.max_per_endpoint))
        seen.append((when, number, bool(data.get("error"))))
        self.records += 1

    def stats(self, endpoint_id: str) -> dict[str, Any]:
        """The endpoint's requests of the last ``span`` seconds, summarised."""
        horizon = self.clock() - self.span
        seen = self._seen.get(endpoint_id, deque())
        while seen and seen[0][0] < horizon:
            seen.popleft()
        recent = [r for r in seen if r[0] >= horizon]
        latencies = np.array([r[1] for r in recent if r[1] is not None], dtype=float)
        errors = sum(1 for r in recent if r[2])
        quantile = (
            (lambda q: float(np.quantile(latencies, q))) if latencies.size else (lambda q: None)
        )
        return {
            "enabled": True,
            "span_s": self.span,
            "requests": len(recent),
            "rate_per_min": len(recent) / self.span * 60,
            "latency_p50": quantile(0.5),
            "latency_p99": quantile(0.99),
            "error_rate": errors / len(recent) if recent else None,
            "last_seen": max((r[0] for r in recent), default=None),
            "stream_error": self.error,
        }

    async def follow(self, poll_s: float = 1.0) -> None:
        """Read the stream until cancelled; a broken stream is retried, its error shown."""
        consumer = f"ui-{os.getpid()}"
        while True:
            stream = None
            try:
                stream = get_stream(self.stream_url)
                while True:
                    batch = await stream.read(GROUP, consumer, count=1000, block_ms=0)
                    for record in batch:
                        if record.malformed is None:
                            self.add(record.data)
                    if batch:
                        await stream.ack(GROUP, [r.offset for r in batch])
                    self.error = None
                    if not batch:
                        await asyncio.sleep(poll_s)
            except ServegraphError as exc:
                self.error = f"cannot read {self.stream_url}: {exc}"
                logger.warning("dashboard live traffic: %s", self.error)
                await asyncio.sleep(5 * poll_s)
            finally:
                if stream is not None:
                    await stream.close()

    async def task(self, _app: Any) -> AsyncIterator[None]:
        """An aiohttp ``cleanup_ctx``: follow the stream while the app runs."""
        running = asyncio.create_task(self.follow())
        yield
        running.cancel()
        try:
            await running
        except asyncio.CancelledError:
            pass
