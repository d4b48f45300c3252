"""A project with 10,000 runs: the run list is one page, whatever the project's size."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from servegraph.config import get_config
from servegraph.storage.models import RunRow
from servegraph.storage.rundb import RunDB, get_run_db
from servegraph.ui import make_app

RUNS = 10_000


def add_runs(project: str, count: int, db: RunDB | None = None) -> None:
    """Insert ``count`` run records in one transaction (the store writes one at a time)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        state = ("completed", "error", "running")[i % 3]
        when = start + timedelta(seconds=i)
        body: dict[str, Any] = {
            "metadata": {
                "name": f"train-{i % 7}",
                "uid": f"u{i:06d}",
                "project": project,
                "iteration": 0,
                "labels": {"shard": str(i % 4)},
            },
            "spec": {"parameters": {"i": i}},
            "status": {
                "state": state,
                "start_time": when.isoformat(),
                "results": {"score": i / count},
            },
        }
        rows.append(
            RunRow(
                project=project,
                uid=f"u{i:06d}",
                iteration=0,
                name=body["metadata"]["name"],
                state=state,
                start_time=when,
                updated=when,
                body=body,
            )
        )
    with (db or get_run_db()).session() as s:
        s.add_all(rows)


async def test_a_page_of_ten_thousand_runs() -> None:
    add_runs("big", RUNS)
    async with TestClient(TestServer(make_app(get_config()))) as client:
        began = time.perf_counter()
        resp = await client.get("/api/runs?project=big&limit=50")
        body = await resp.read()
        first_page = time.perf_counter() - began
        page = await resp.json()
        began = time.perf_counter()
        filtered = await (
            await client.get("/api/runs?project=big&state=error&label=shard=1&name=train-3")
        ).json()
        filtered_page = time.perf_counter() - began
    assert page["total"] == RUNS and len(page["runs"]) == 50
    assert page["runs"][0]["uid"] == f"u{RUNS - 1:06d}"  # newest first
    assert len(body) < 50 * 1024  # a page, not the project: the payload does not grow with it
    expected = [
        i for i in range(RUNS) if i % 3 == 1 and i % 4 == 1 and i % 7 == 3
    ]  # state error, shard 1, name train-3
    assert filtered["total"] == len(expected)
    assert [r["uid"] for r in filtered["runs"]] == [f"u{i:06d}" for i in reversed(expected)][:50]
    print(
        f"\n{RUNS} runs: first page {first_page * 1000:.0f} ms ({len(body)} bytes), "
        f"filtered page {filtered_page * 1000:.0f} ms"
    )
