"""One record that cannot be encoded is repaired or dead-lettered alone, never its batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from servegraph.monitoring.tracking import StreamTracker
from servegraph.streams import get_stream


def _record(i: int, **changes: Any) -> dict[str, Any]:
    return {"endpoint_id": "ep", "request_id": f"r{i}", "inputs": [[i]], "outputs": [i], **changes}


def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


async def _read_all(url: str) -> list[dict[str, Any]]:
    stream = get_stream(url)
    out: list[dict[str, Any]] = []
    while batch := await stream.read("check", "c", count=500):
        out.extend(r.data for r in batch)
    await stream.close()
    return out


@pytest.mark.parametrize("url_kind", ["file", "redis"])
async def test_a_bad_record_costs_only_itself(
    url_kind: str, tmp_path: Path, servegraph_home: Path, request: pytest.FixtureRequest
) -> None:
    if url_kind == "file":
        url = str(tmp_path / "ep-stream")
    else:
        base, unique = request.getfixturevalue("redis_url"), request.getfixturevalue("unique")
        url = f"{base}/sg-test-enc-{unique}"
    tracker = StreamTracker(stream_path=url, batch=50)
    await tracker.start()
    for i in range(50):
        if i == 10:
            tracker.log(_record(i, request_id="\ud800"))  # a lone surrogate in the JSON body
        elif i == 20:
            tracker.log(_record(i, request_id="abc\udcff"))  # invalid UTF-8 in a header
        elif i == 30:
            tracker.log(_record(i, inputs=_deep(600)))  # nested beyond any encoder's limit
        else:
            tracker.log(_record(i))
    await tracker.close()

    stored = await _read_all(url)
    assert [r["request_id"] for r in stored] == [
        f"r{i}" if i not in (10, 20) else ("\ufffd" if i == 10 else "abc\ufffd")
        for i in range(50)
        if i != 30
    ]
    assert tracker.stats["pushed"] == 49 and tracker.stats["spilled"] == 0
    assert tracker.stats["repaired"] == 2 and tracker.stats["dead_lettered"] == 1
    (letter,) = tracker.dead_letter_path.read_text().splitlines()
    assert json.loads(letter)["request_id"] == "r30"
    if url_kind == "redis":
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379)
        client.delete(url.rsplit("/", 1)[1])
        client.close()
