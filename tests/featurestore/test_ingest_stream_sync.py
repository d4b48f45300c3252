"""``ingest_stream_sync``: the coroutine from sync code, and a clear error inside a loop."""

from __future__ import annotations

import asyncio

import pytest

from servegraph.errors import FeatureStoreError
from servegraph.featurestore import FeatureSet, StreamSource, ingest_stream_sync
from servegraph.streams import get_stream


def test_sync_wrapper_ingests_and_counts(tmp_path: object) -> None:
    url = f"file://{tmp_path}/s"

    async def push() -> None:
        stream = get_stream(url)
        await stream.push([{"id": i, "time": f"2024-05-01T10:0{i}:00", "v": 1.0} for i in range(3)])
        await stream.close()

    asyncio.run(push())
    fset = FeatureSet("sync-live", entities=["id"], timestamp_key="time")
    assert ingest_stream_sync(fset, StreamSource(url)) == 3


async def test_inside_a_running_loop_it_says_to_await() -> None:
    fset = FeatureSet("sync-live", entities=["id"], timestamp_key="time")
    with pytest.raises(FeatureStoreError, match="await ingest_stream"):
        ingest_stream_sync(fset, StreamSource("file:///nonexistent/s"))
