"""The demo (examples/demo.py) runs end to end, scaled down, so it cannot rot.

Each test runs the demo as ``make demo`` does, in a fresh process, against the
isolated SERVEGRAPH_HOME of the test; the Redis variant uses a unique project
(online keys) and stream, and deletes them afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo.py"
SCALE = "0.1"


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, str(DEMO), "--scale", SCALE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def assert_whole_loop(result: subprocess.CompletedProcess[str]) -> None:
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for number in range(1, 9):
        assert f"step {number} took" in out
    assert "drifted features: amount, distance_km" in out
    assert "'model_version': 'v2'" in out
    assert "training set store://datasets/" in out
    assert out.rstrip().splitlines()[-1].startswith("demo OK")


def test_demo_runs_the_whole_loop(servegraph_home: Path, unique: str) -> None:
    result = run_demo("--project", f"demo-{unique}")
    assert_whole_loop(result)
    reports = servegraph_home / "demo" / f"demo-{unique}" / "monitoring" / "reports"
    assert list(reports.glob("*/drift.png"))
    alerts = servegraph_home / "demo" / f"demo-{unique}" / "alerts.jsonl"
    assert len(alerts.read_text().splitlines()) == 1


@pytest.fixture
def redis_names(redis_url: str, unique: str) -> Iterator[tuple[str, str]]:
    """A unique project and stream on the real Redis; their keys are deleted afterwards."""
    project, stream = f"demo-{unique}", f"demo-{unique}"
    yield project, stream
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"servegraph:fs:{project}/*", count=1000))
    client.delete(stream, *keys)
    client.close()


def test_demo_runs_on_redis(redis_url: str, redis_names: tuple[str, str]) -> None:
    project, stream = redis_names
    result = run_demo(
        "--project", project, "--online", redis_url, "--stream", f"{redis_url}/{stream}"
    )
    assert_whole_loop(result)
    assert f"online store {redis_url}" in result.stdout
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.xlen(stream) > 0  # the model requests were tracked on Redis
        assert next(client.scan_iter(match=f"servegraph:fs:{project}/*"), None) is not None
    finally:
        client.close()


def test_a_failing_step_exits_non_zero_naming_it(unique: str) -> None:
    result = run_demo("--project", f"demo-{unique}", "--online", "redis://127.0.0.1:1")
    assert result.returncode == 1
    assert "demo FAILED: step 2 (define and ingest the feature sets) failed" in result.stdout
