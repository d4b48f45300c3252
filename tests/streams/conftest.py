"""A stream factory parametrized over the backends that run here: file log and real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis

from servegraph.streams import Stream, get_stream

StreamFactory = Callable[..., Stream]


@pytest.fixture(params=["file", "redis"])
async def stream_factory(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[StreamFactory]:
    """Each call opens a new stream object on the same stream (as after a restart)."""
    if request.param == "file":
        url = f"file://{tmp_path / 'stream'}"
    else:
        base = request.getfixturevalue("redis_url")
        url = f"{base}/sg-test-{unique}"
    opened: list[Stream] = []
    suffixes: set[str] = {""}

    def factory(suffix: str = "") -> Stream:
        """Open the stream (``suffix`` names a sibling stream, e.g. a dead letter)."""
        suffixes.add(suffix)
        stream = get_stream(url + suffix)
        opened.append(stream)
        return stream

    yield factory
    for stream in opened:
        await stream.close()
    if request.param == "redis":
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        client.delete(*(f"sg-test-{unique}{suffix}" for suffix in suffixes))
        client.close()
