"""The Redis online store against the real server (unique prefix, keys deleted after)."""

from __future__ import annotations

import pytest
import redis

from servegraph.errors import ConfigError, OnlineStoreError
from servegraph.featurestore import RedisTarget


def test_write_read_pipelined_and_async(redis_target: RedisTarget, redis_url: str) -> None:
    store = redis_target.open()
    report = store.write(
        "p/a", {str(i): {"x": i * 1.5, "s": f"v{i}"} for i in range(5)}, batch_size=2
    )
    assert (report.written, report.total) == (5, 5)
    client = redis.Redis.from_url(redis_url)
    assert client.hgetall(f"{redis_target.prefix}p/a:3") == {b"x": b"4.5", b"s": b'"v3"'}
    client.close()
    rows = store.read([("p/a", "1"), ("p/a", "4"), ("p/a", "nope")], [["x"], ["s", "x"], ["x"]])
    assert rows == [{"x": 1.5}, {"s": "v4", "x": 6.0}, None]
    store.write("p/a", {"1": {"s": "only"}})  # the entity's row is replaced, not merged
    assert store.read([("p/a", "1")], [["x", "s"]]) == [{"x": None, "s": "only"}]
    store.delete("p/a")
    assert store.read([("p/a", "2")], [["x"]]) == [None]
    store.close()


async def test_async_read(redis_target: RedisTarget) -> None:
    store = redis_target.open()
    store.write("p/a", {"1": {"x": 1}})
    assert await store.aread([("p/a", "1"), ("p/a", "2")], [["x"], ["x"]]) == [{"x": 1}, None]
    await store.aclose()


def test_unreachable_redis_reports_what_was_written() -> None:
    store = RedisTarget("redis://127.0.0.1:1", prefix="x:").open()
    with pytest.raises(OnlineStoreError, match="after 0 of 3 entity rows"):
        store.write("p/a", {"1": {}, "2": {}, "3": {}})
    with pytest.raises(OnlineStoreError, match=r"127\.0\.0\.1:1"):
        store.read([("p/a", "1"), ("p/a", "2")], [["x"], ["x"]])
    store.close()


def test_unencodable_value_fails_the_batch_not_silently(redis_target: RedisTarget) -> None:
    store = redis_target.open()
    with pytest.raises(OnlineStoreError, match="after 1 of 2"):
        store.write("p/a", {"1": {"x": 1}, "2": {"x": object()}}, batch_size=1)
    assert store.read([("p/a", "1"), ("p/a", "2")], [["x"], ["x"]]) == [{"x": 1}, None]
    store.close()


def test_bad_url() -> None:
    with pytest.raises(ConfigError, match="redis://"):
        RedisTarget("sqlite:///x")


def test_delete_never_globs(redis_target: RedisTarget) -> None:
    store = redis_target.open()
    store.write("p/a*", {"1": {"x": 1}})
    store.write("p/ab", {"1": {"x": 2}})
    store.write("p/a?", {"1": {"x": 3}})
    store.delete("p/a*")
    assert store.read([("p/a*", "1"), ("p/ab", "1"), ("p/a?", "1")], [["x"]] * 3) == [
        None,
        {"x": 2},
        {"x": 3},
    ]
    store.close()
