"""Redis Streams specifics against the real server: trimming, claiming, error mapping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from servegraph.errors import ConfigError, StreamError, StreamUnavailableError
from servegraph.streams.redis_streams import RedisStream


@pytest.fixture
def stream_name(redis_url: str, unique: str) -> Iterator[str]:
    name = f"sg-test-{unique}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name)
    client.close()


async def test_push_trims_with_maxlen(redis_url: str, stream_name: str) -> None:
    stream = RedisStream(f"{redis_url}/{stream_name}", maxlen=10)
    for _ in range(30):
        await stream.push([{"i": i} for i in range(100)])
    length = redis.Redis.from_url(redis_url).xlen(stream_name)
    await stream.close()
    assert 10 <= length < 3000  # approximate trimming keeps at least maxlen, far fewer than all


async def test_idle_pending_entries_of_a_dead_consumer_are_claimed(
    redis_url: str, stream_name: str
) -> None:
    url = f"{redis_url}/{stream_name}"
    dead = RedisStream(url)
    await dead.push([{"i": i} for i in range(3)])
    assert len(await dead.read("g", "dead", count=3)) == 3
    await dead.close()
    survivor = RedisStream(url, claim_idle_ms=0)
    claimed = await survivor.read("g", "alive", count=10)
    assert [r.data["i"] for r in claimed] == [0, 1, 2]
    await survivor.ack("g", [r.offset for r in claimed])
    pending = redis.Redis.from_url(redis_url).xpending(stream_name, "g")
    await survivor.close()
    assert pending["pending"] == 0


async def test_unreachable_server_raises_stream_unavailable(unused_tcp_port: int) -> None:
    stream = RedisStream(f"redis://127.0.0.1:{unused_tcp_port}/s", timeout_s=1)
    with pytest.raises(StreamUnavailableError, match="unreachable") as info:
        await stream.push([{"i": 1}])
    assert isinstance(info.value.__cause__, redis.exceptions.ConnectionError)
    with pytest.raises(StreamUnavailableError):
        await stream.read("g", "c")
    await stream.close()


def test_url_parsing_and_bad_options() -> None:
    stream = RedisStream("redis://user:pw@h:6390/my-stream?db=2&maxlen=50&claim_idle_ms=10")
    assert (stream.host, stream.port, stream.db, stream.name) == ("h", 6390, 2, "my-stream")
    assert (stream.maxlen, stream.claim_idle_ms) == (50, 10)
    with pytest.raises(ConfigError, match="redis://host:port/stream"):
        RedisStream("redis://h:6379")
    with pytest.raises(ConfigError, match="'maxlen' option"):
        RedisStream("redis://h:6379/s?maxlen=lots")


async def test_server_errors_become_stream_error(redis_url: str, stream_name: str) -> None:
    redis.Redis.from_url(redis_url).set(stream_name, "not a stream")
    stream = RedisStream(f"{redis_url}/{stream_name}")
    with pytest.raises(StreamError, match="failed to push") as info:
        await stream.push([{"i": 1}])
    await stream.close()
    assert not isinstance(info.value, StreamUnavailableError)
    assert isinstance(info.value.__cause__, redis.exceptions.ResponseError)


async def test_own_pending_entries_trimmed_away_do_not_hide_new_records(
    redis_url: str, stream_name: str
) -> None:
    url = f"{redis_url}/{stream_name}"
    before = RedisStream(url)
    await before.push([{"i": i} for i in range(3)])
    assert len(await before.read("g", "c1", count=3)) == 3  # delivered, never acked
    await before.close()
    client = redis.Redis.from_url(redis_url)
    client.xtrim(stream_name, maxlen=0)  # MAXLEN trimming dropped them while pending
    after = RedisStream(url, claim_idle_ms=60_000)
    await after.push([{"i": 3}])
    records = await after.read("g", "c1", count=3)
    assert [r.data["i"] for r in records] == [3]
    await after.ack("g", [r.offset for r in records])
    pending = client.xpending(stream_name, "g")["pending"]
    client.close()
    await after.close()
    assert pending == 0  # the trimmed entries left the pending list too
