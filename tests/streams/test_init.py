"""get_stream picks the backend by URL; stream_url_for names sibling streams."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.errors import ConfigError
from servegraph.streams import get_stream, stream_url_for
from servegraph.streams.filelog import FileLogStream
from servegraph.streams.kafka import KafkaStream
from servegraph.streams.redis_streams import RedisStream


def test_backend_by_url(tmp_path: Path) -> None:
    assert isinstance(get_stream(str(tmp_path / "a")), FileLogStream)
    assert isinstance(get_stream(f"file://{tmp_path / 'b'}"), FileLogStream)
    assert isinstance(get_stream("redis://localhost:6379/s"), RedisStream)
    assert isinstance(get_stream("kafka://localhost:9092/t"), KafkaStream)
    stream = get_stream(str(tmp_path / "c"), segment_records=3)
    assert isinstance(stream, FileLogStream) and stream.segment_records == 3


@pytest.mark.parametrize("url", ["", "s3://bucket/stream", "http://x/y"])
def test_unknown_schemes_are_named(url: str) -> None:
    with pytest.raises(ConfigError, match="'url' parameter of get_stream"):
        get_stream(url)


def test_stream_url_for() -> None:
    assert stream_url_for("/data/streams/", "ep") == "/data/streams/ep"
    assert stream_url_for("redis://h:1/pre?maxlen=5", "ep") == "redis://h:1/pre.ep?maxlen=5"
    assert stream_url_for("kafka://b/t", "ep") == "kafka://b/t.ep"
