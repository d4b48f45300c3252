"""Kafka backend: URL parsing and client configuration only (no Kafka broker runs here)."""

from __future__ import annotations

import pytest

from servegraph.errors import ConfigError, StreamError, StreamUnavailableError
from servegraph.streams.kafka import KafkaStream, parse_offset


def test_url_gives_topic_brokers_and_producer_config() -> None:
    stream = KafkaStream("kafka://b1,b2:9093/events?acks=0&linger_ms=5&client_id=me")
    assert stream.topic == "events"
    assert stream.bootstrap_servers == ["b1:9092", "b2:9093"]
    assert stream.producer_config() == {
        "bootstrap_servers": ["b1:9092", "b2:9093"],
        "acks": 0,
        "linger_ms": 5,
        "client_id": "me",
    }


def test_consumer_config_never_auto_commits() -> None:
    config = KafkaStream("kafka://b/t?auto_offset_reset=latest").consumer_config("g", "c1")
    assert config["group_id"] == "g" and config["client_id"] == "c1"
    assert config["enable_auto_commit"] is False
    assert config["auto_offset_reset"] == "latest"


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("kafka://broker", "kafka://broker:9092/topic"),
        ("kafka:///topic", "kafka://broker:9092/topic"),
        ("kafka://b/t?acks=2", "'acks' option"),
        ("kafka://b/t?auto_offset_reset=middle", "'auto_offset_reset' option"),
        ("kafka://b/t?linger_ms=-1", "'linger_ms' option"),
    ],
)
def test_bad_urls_are_named(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        KafkaStream(url)


def test_offsets() -> None:
    assert parse_offset("0:17") == (0, 17)
    with pytest.raises(StreamError, match="'<partition>:<offset>'"):
        parse_offset("17")


async def test_ack_before_read_is_an_error() -> None:
    with pytest.raises(StreamError, match="before reading"):
        await KafkaStream("kafka://b/t").ack("g", ["0:1"])


async def test_unreachable_broker_raises_stream_unavailable(unused_tcp_port: int) -> None:
    stream = KafkaStream(f"kafka://127.0.0.1:{unused_tcp_port}/t?client_id=test")
    with pytest.raises(StreamUnavailableError):
        await stream.push([{"i": 1}])
    await stream.close()
