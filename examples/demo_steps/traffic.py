"""Step 5: send requests to the served graph over HTTP with an aiohttp client.

Each request is one card transaction: the customer and the request-time
features; the graph adds the customer's online features before the model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np
import pandas as pd

from . import check
from .data import REQUEST_FEATURES

CONCURRENCY = 32


@dataclass
class TrafficReport:
    """What a wave of requests got back."""

    sent: int
    seconds: float
    flagged: int
    versions: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> str:
        p50, p99 = np.percentile(self.latencies_ms, [50, 99])
        return (
            f"{self.sent} requests in {self.seconds:.1f}s ({self.sent / self.seconds:.0f}/s), "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {self.flagged} flagged as fraud"
        )


def request_body(row: Mapping[Any, Any], request_id: str) -> dict[str, Any]:
    """The JSON body of one transaction's request."""
    body = {"id": request_id, "customer_id": int(row["customer_id"])}
    body.update({name: float(row[name]) for name in REQUEST_FEATURES})
    return body


async def post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST one request; a non-200 answer is an error naming the request."""
    async with session.post(url, json=body) as response:
        answer: dict[str, Any] = await response.json()
        check(response.status == 200, f"request {body['id']} got {response.status}: {answer}")
        return answer


async def send(base_url: str, rows: pd.DataFrame, wave: str, path: str) -> TrafficReport:
    """Send one request per row (``CONCURRENCY`` in flight) to ``base_url + path``."""
    url = base_url + path
    queue = list(enumerate(rows.to_dict("records")))
    report = TrafficReport(sent=0, seconds=0.0, flagged=0)

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            i, row = queue.pop()
            start = time.perf_counter()
            answer = await post(session, url, request_body(row, f"{wave}-{i}"))
            report.latencies_ms.append((time.perf_counter() - start) * 1000)
            report.sent += 1
            report.flagged += int(answer["fraud"])
            version = str(answer.get("model_version"))
            report.versions[version] = report.versions.get(version, 0) + 1

    start = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
    report.seconds = time.perf_counter() - start
    check(report.sent == len(rows), f"{wave}: sent {report.sent} of {len(rows)} requests")
    return report
