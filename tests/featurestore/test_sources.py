"""Real-time ingestion from a stream source (an in-memory stream with the Stream protocol)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from servegraph.errors import FeatureStoreError, OnlineStoreError
from servegraph.featurestore import (
    FeatureSet,
    FeatureVector,
    ParquetTarget,
    RedisTarget,
    SQLiteTarget,
    StreamSource,
    get_online_feature_service,
    ingest,
    ingest_stream,
)
from servegraph.streams import get_stream
from servegraph.streams.base import Record, Stream

from .conftest import make_events


class MemoryStream:
    """A fake stream: records in a list, one cursor and acked set per group."""

    url = "memory://test"

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.delivered: dict[str, int] = {}
        self.acked: dict[str, set[str]] = {}

    async def push(self, records: list[dict[str, Any]]) -> list[str]:
        start = len(self.records)
        self.records.extend(records)
        return [str(i) for i in range(start, len(self.records))]

    async def read(
        self, group: str, consumer: str, count: int = 100, block_ms: int = 0
    ) -> list[Record]:
        pos = self.delivered.get(group, 0)
        batch = self.records[pos : pos + count]
        self.delivered[group] = pos + len(batch)
        return [Record(str(pos + i), data) for i, data in enumerate(batch)]

    async def ack(self, group: str, offsets: list[str]) -> None:
        self.acked.setdefault(group, set()).update(offsets)

    async def close(self) -> None:
        pass


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"id": int(r.id), "time": r.time.isoformat(), "amount": float(r.amount)}
        for r in df.itertuples()
    ]


async def test_stream_ingestion_keeps_windows_across_reads_and_acks() -> None:
    events = make_events(n=300, entities=4, seed=7)[["id", "time", "amount"]]
    stream = MemoryStream()
    assert isinstance(stream, Stream)
    await stream.push(_records(events))

    fset = FeatureSet("live", entities=["id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum", "count"], ["1h"], period="10m")
    count = await ingest_stream(fset, StreamSource(stream, group="g", count=64))
    assert count == 300
    assert stream.acked["g"] == {str(i) for i in range(300)}

    # same values as batch ingestion of the same events (state spans the 64-record reads)
    batch_set = FeatureSet("batch", entities=["id"], timestamp_key="time")
    batch_set.add_aggregation("amount", ["sum", "count"], ["1h"], period="10m")
    expected = ingest(batch_set, events)
    assert expected is not None
    offline = fset.offline_target().read(fset.key, "time")
    np.testing.assert_allclose(
        offline.sort_values("time")["amount_sum_1h"].to_numpy(),
        expected.sort_values("time")["amount_sum_1h"].to_numpy(),
    )
    svc = get_online_feature_service(FeatureVector("v", ["live.amount_count_1h"]))
    latest = expected.sort_values("time").groupby("id").tail(1).set_index("id")
    try:
        for entity in range(4):
            got = (await svc.aget([entity]))[0]["amount_count_1h"]
            assert got == latest.loc[entity, "amount_count_1h"]
    finally:
        await svc.aclose()


async def test_max_records_stops_early() -> None:
    stream = MemoryStream()
    await stream.push(_records(make_events(n=40, entities=2)))
    fset = FeatureSet("live", entities=["id"], timestamp_key="time")
    source = StreamSource(stream, count=10, max_records=20, stop_on_empty=False)
    assert await ingest_stream(fset, source) == 20
    assert len(stream.acked["featurestore"]) == 20


def test_ingest_runs_a_stream_source_outside_an_event_loop() -> None:
    stream = MemoryStream()
    stream.records = _records(make_events(n=30, entities=3))
    fset = FeatureSet("live", entities=["id"], timestamp_key="time")
    assert ingest(fset, StreamSource(stream)) is None
    assert len(fset.offline_target().read(fset.key, "time")) == 30


def test_bad_stream_source_count() -> None:
    with pytest.raises(FeatureStoreError, match="'count'"):
        StreamSource(MemoryStream(), count=0)


async def test_stream_continues_the_windows_of_a_batch_ingestion() -> None:
    events = make_events(n=200, entities=3, seed=5)[["id", "time", "amount"]]
    whole = FeatureSet("whole", entities=["id"], timestamp_key="time")
    whole.add_aggregation("amount", ["sum"], ["2h"], period="10m")
    expected = ingest(whole, events)
    assert expected is not None

    fset = FeatureSet("live", entities=["id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum"], ["2h"], period="10m")
    ingest(fset, events.iloc[:120])
    stream = MemoryStream()
    await stream.push(_records(events.iloc[120:]))
    assert await ingest_stream("live", StreamSource(stream)) == 80
    offline = fset.offline_target().read(fset.key, "time")
    assert len(offline) == 200
    np.testing.assert_allclose(offline["amount_sum_2h"], expected["amount_sum_2h"])


async def test_a_retry_after_an_online_failure_writes_no_duplicates(tmp_path: Path) -> None:
    """First run: the online store is down, nothing is acked; the rerun finishes the job."""
    events = make_events(n=300, entities=5, seed=3)[["id", "time", "amount"]]
    url = str(tmp_path / "events")
    producer = get_stream(url)
    await producer.push(_records(events))
    await producer.close()

    fset = FeatureSet("live", entities=["id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum"], ["1h"], period="10m")
    fset.set_targets([ParquetTarget(), RedisTarget("redis://127.0.0.1:1", prefix="x:")])
    with pytest.raises(OnlineStoreError):
        await ingest_stream(fset, StreamSource(url, count=100))

    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    fset.save()
    assert await ingest_stream("live", StreamSource(url, count=100)) == 300
    offline = fset.offline_target().read(fset.key, "time")
    assert len(offline) == 300

    whole = FeatureSet("whole", entities=["id"], timestamp_key="time")
    whole.add_aggregation("amount", ["sum"], ["1h"], period="10m")
    expected = ingest(whole, events)
    assert expected is not None
    np.testing.assert_allclose(
        offline.sort_values(["time", "id"])["amount_sum_1h"].to_numpy(),
        expected.sort_values(["time", "id"])["amount_sum_1h"].to_numpy(),
    )
