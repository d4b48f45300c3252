"""The monitoring job: windows, drift on the shifted feature only, resume after a kill."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from servegraph.errors import MonitoringError
from servegraph.monitoring.drift import DriftStatus
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.monitoring.job import MonitoringJob
from servegraph.monitoring.results import ResultStore, WindowResult
from servegraph.monitoring.tracking import default_stream_url
from servegraph.streams import Record, Stream, get_stream

from .data import FEATURES, T0, records, reference_frame

HOUR = dt.timedelta(hours=1)


def register(endpoint: str = "ep", project: str = "") -> None:
    EndpointRegistry().register(
        ModelEndpoint(id=endpoint, project=project, feature_names=FEATURES),
        reference=reference_frame(),
    )


async def push(items: list[dict[str, Any]], url: str | None = None) -> None:
    stream = get_stream(url or default_stream_url())
    await stream.push(items)
    await stream.close()


def three_windows(endpoint: str = "ep") -> list[dict[str, Any]]:
    return (
        records(endpoint, 400, start=T0, seed=1)
        + records(endpoint, 400, start=T0 + HOUR, seed=2, shift_b=1.5)
        + records(endpoint, 400, start=T0 + 2 * HOUR, seed=3, shift_b=1.5, error_every=10)
    )


async def test_drift_is_flagged_on_exactly_the_shifted_feature(servegraph_home: Path) -> None:
    register()
    await push(three_windows())
    report = await MonitoringJob(window="1h", batch_size=256).run()
    assert report.records == 1200 and report.batches == 5
    statuses = [(w.window_start.hour, w.status) for w in report.windows]
    assert statuses == [
        (10, DriftStatus.NO_DRIFT),
        (11, DriftStatus.DRIFT_DETECTED),
        (12, DriftStatus.DRIFT_DETECTED),
    ]
    for window in report.windows[1:]:
        flagged = {f.feature for f in window.features if f.status is not DriftStatus.NO_DRIFT}
        assert flagged == {"b"}
    last = report.windows[-1]
    assert (last.requests, last.rows, last.errors, last.error_rate) == (400, 800, 40, 0.1)
    assert last.latency_p99 == pytest.approx(5.0)

    stored = ResultStore().windows("ep")
    assert stored["status"].tolist() == ["no_drift", "drift_detected", "drift_detected"]
    assert stored["rows"].tolist() == [800, 800, 800]
    features = pd.read_parquet(servegraph_home / "monitoring" / "results" / "ep.parquet")
    assert len(features) == 9 and set(features["feature"]) == set(FEATURES)
    report_dir = servegraph_home / "monitoring" / "reports" / "ep"
    for name in ("drift.png", "histograms.png"):
        assert (report_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "data:image/png;base64," in (report_dir / "report.html").read_text()


async def test_a_second_run_reads_only_new_records(servegraph_home: Path) -> None:
    register()
    await push(records("ep", 100, start=T0))
    first = await MonitoringJob(plots=False).run()
    assert first.records == 100
    again = await MonitoringJob(plots=False).run()
    assert again.records == 0 and again.windows == []
    await push(records("ep", 50, start=T0 + dt.timedelta(minutes=55), minutes=4, seed=9))
    third = await MonitoringJob(plots=False).run()
    assert third.records == 50
    assert [(w.requests, w.rows) for w in third.windows] == [(150, 300)]


async def test_unregistered_endpoints_are_listed_and_scored_for_health() -> None:
    await push(records("new-ep", 20, error_every=2))
    report = await MonitoringJob(plots=False).run()
    assert EndpointRegistry().get("new-ep").model_name == "m"
    (window,) = report.windows
    assert window.features == [] and window.status is DriftStatus.NO_DRIFT
    assert window.error_rate == 0.5


async def test_project_and_endpoint_filters_use_their_own_groups() -> None:
    register("ep1", project="p1")
    register("ep2", project="p2")
    await push(records("ep1", 30) + records("ep2", 20))
    p1 = await MonitoringJob(project="p1", plots=False).run()
    assert {w.endpoint_id for w in p1.windows} == {"ep1"}
    only_ep2 = await MonitoringJob(endpoint="ep2", plots=False).run()
    assert only_ep2.records == 50  # its own group reads the whole stream
    assert [(w.endpoint_id, w.requests) for w in only_ep2.windows] == [("ep2", 20)]


def test_bad_parameters_are_named() -> None:
    with pytest.raises(MonitoringError, match="'window' parameter"):
        MonitoringJob(window="often")
    with pytest.raises(MonitoringError, match="'window' parameter"):
        MonitoringJob(window="-1h")
    with pytest.raises(MonitoringError, match="'batch_size' parameter"):
        MonitoringJob(batch_size=0)


# -- killed mid-run: the next run resumes without double counting --------------------------


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the job may catch it."""


class KillOnAck:
    """The real stream, but the process 'dies' instead of doing its n-th ack."""

    def __init__(self, inner: Stream, n: int) -> None:
        self.url, self.inner, self.n, self.acks = inner.url, inner, n, 0

    async def push(self, records: list[dict[str, Any]]) -> list[str]:
        return await self.inner.push(records)

    async def read(
        self, group: str, consumer: str, count: int = 100, block_ms: int = 0
    ) -> list[Record]:
        return await self.inner.read(group, consumer, count, block_ms)

    async def ack(self, group: str, offsets: list[str]) -> None:
        self.acks += 1
        if self.acks == self.n:
            raise Killed
        await self.inner.ack(group, offsets)

    async def close(self) -> None:
        await self.inner.close()


class KillOnSave(ResultStore):
    """Dies while saving the n-th window result."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n, self.saves = n, 0

    def save(self, result: WindowResult) -> None:
        self.saves += 1
        if self.saves == self.n:
            raise Killed
        super().save(result)


def _final_counts() -> list[tuple[int, int, str]]:
    w = ResultStore().windows("ep")
    return list(zip(w["requests"], w["rows"], w["status"], strict=True))


async def _reference_counts() -> list[tuple[int, int, str]]:
    await MonitoringJob(plots=False, batch_size=100).run()
    return _final_counts()


@pytest.mark.parametrize("kill_at_ack", [1, 3, 6])
async def test_killed_between_store_and_ack_resumes_without_double_counting(
    kill_at_ack: int,
) -> None:
    register()
    await push(three_windows())
    stream = KillOnAck(get_stream(default_stream_url()), kill_at_ack)
    with pytest.raises(Killed):
        await MonitoringJob(plots=False, batch_size=100, stream=stream).run()
    await stream.close()
    resumed = await MonitoringJob(plots=False, batch_size=100).run()
    assert resumed.records == 1200 - 100 * (kill_at_ack - 1)
    assert _final_counts() == [
        (400, 800, "no_drift"),
        (400, 800, "drift_detected"),
        (400, 800, "drift_detected"),
    ]


async def test_killed_while_saving_results_resumes_the_dirty_windows() -> None:
    register()
    await push(three_windows())
    with pytest.raises(Killed):
        await MonitoringJob(plots=False, batch_size=100, results=KillOnSave(2)).run()
    assert len(ResultStore().windows("ep")) == 1
    resumed = await MonitoringJob(plots=False).run()
    assert resumed.records == 0  # everything was acked; only scoring was left
    assert [w.window_start.hour for w in resumed.windows] == [11, 12]
    assert [c[:2] for c in _final_counts()] == [(400, 800)] * 3


async def test_on_redis_streams_a_kill_before_ack_is_not_double_counted(
    redis_url: str, unique: str
) -> None:
    import redis

    url = f"{redis_url}/sg-test-job-{unique}"
    try:
        register()
        await push(three_windows(), url)
        stream = KillOnAck(get_stream(url), 4)
        with pytest.raises(Killed):
            await MonitoringJob(stream_path=url, plots=False, batch_size=100, stream=stream).run()
        await stream.close()
        resumed = await MonitoringJob(stream_path=url, plots=False, batch_size=100).run()
        assert resumed.records == 1200 - 300  # the unacked batch is re-delivered (pending)
        assert [c[:2] for c in _final_counts()] == [(400, 800)] * 3
    finally:
        client = redis.Redis.from_url(redis_url)
        client.delete(f"sg-test-job-{unique}")
        client.close()
