"""Streams: one interface (:mod:`servegraph.streams.base`) over several backends.

``get_stream(url)`` picks the backend from the URL:

- a plain path or ``file:///path``: the embedded file log (:mod:`.filelog`)
- ``redis://host:port/stream``: Redis Streams (:mod:`.redis_streams`)
- ``kafka://broker:port/topic``: Kafka through aiokafka (:mod:`.kafka`)

>>> stream = get_stream("/tmp/sg-doc-stream")   # doctest: +SKIP
>>> await stream.push([{"x": 1}])                # doctest: +SKIP
['0']
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit

from servegraph.errors import ConfigError
from servegraph.names import check_name
from servegraph.streams.base import Record, Stream

__all__ = ["Record", "Stream", "get_stream", "resolve_stream", "stream_url_for"]

# URL scheme -> "module:Class" implementing it, imported on first use
BACKENDS: dict[str, str] = {
    "file": "servegraph.streams.filelog:FileLogStream",
    "redis": "servegraph.streams.redis_streams:RedisStream",
    "rediss": "servegraph.streams.redis_streams:RedisStream",
    "kafka": "servegraph.streams.kafka:KafkaStream",
}


def _scheme(url: str) -> str:
    if not url:
        raise ConfigError("The 'url' parameter of get_stream must be a non-empty URL. Got ''.")
    scheme = urlsplit(url).scheme
    # a bare path, or a Windows drive letter, is a file log
    return "file" if len(scheme) <= 1 else scheme


def get_stream(url: str, **options: Any) -> Stream:
    """Open the stream at ``url``; ``options`` go to the backend's constructor.

    Raises :class:`~servegraph.errors.ConfigError` for an unknown scheme or a
    malformed URL.
    """
    scheme = _scheme(url)
    target = BACKENDS.get(scheme)
    if target is None:
        known = ", ".join(sorted(BACKENDS))
        raise ConfigError(
            f"The 'url' parameter of get_stream must use one of the schemes {known} "
            f"or be a plain path. Got {url!r} instead."
        )
    module_path, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_path), class_name)
    stream: Stream = cls(url, **options)
    return stream


def stream_url_for(base: str, name: str) -> str:
    """Return the URL of the stream called ``name`` next to ``base``.

    A file log ``base`` is a directory that holds streams; for Redis and Kafka
    the stream (topic) name in ``base``, if any, becomes a prefix.

    >>> stream_url_for("file:///var/sg/streams", "endpoints")
    'file:///var/sg/streams/endpoints'
    >>> stream_url_for("redis://localhost:6379/sg", "endpoints")
    'redis://localhost:6379/sg.endpoints'
    >>> stream_url_for("kafka://broker:9092", "endpoints")
    'kafka://broker:9092/endpoints'
    """
    check_name("stream", name)
    if _scheme(base) == "file":
        return f"{base.rstrip('/')}/{name}"
    parts = urlsplit(base)
    prefix = parts.path.strip("/")
    stream = f"{prefix}.{name}" if prefix else name
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}/{stream}{query}"


def resolve_stream(path: str) -> str:
    """A stream URL for ``path``: a bare name (``"requests"``) is a stream of the configured
    base (``SERVEGRAPH_STREAM_PATH``); a URL or a path with a ``/`` is kept.

    This is how the functions of one deployment share queues: each process resolves
    the same name against the same base (a file-log folder, or Redis by URL).

    >>> resolve_stream("redis://localhost:6379/events")
    'redis://localhost:6379/events'
    """
    if "://" in path or "/" in path or "\\" in path:
        return path
    from servegraph.config import get_config

    return stream_url_for(get_config().stream_path, path)
