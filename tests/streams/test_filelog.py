"""The file log: segments, torn lines, persisted group state, several writers."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from servegraph.errors import ConfigError, StreamError
from servegraph.streams.filelog import FileLogStream, path_from_url


async def test_records_roll_over_into_segments(tmp_path: Path) -> None:
    stream = FileLogStream(str(tmp_path), segment_records=4)
    offsets = await stream.push([{"i": i} for i in range(10)])
    assert offsets == [str(i) for i in range(10)]
    segments = sorted(p.name for p in (tmp_path / "segments").iterdir())
    assert segments == [f"{b:020d}.log" for b in (0, 4, 8)]
    got = await stream.read("g", "c", count=100)
    assert [r.data["i"] for r in got] == list(range(10))
    assert [r.offset for r in got] == offsets


async def test_a_torn_last_line_is_dropped(tmp_path: Path) -> None:
    stream = FileLogStream(str(tmp_path))
    await stream.push([{"i": 0}, {"i": 1}])
    segment = tmp_path / "segments" / f"{0:020d}.log"
    with open(segment, "ab") as handle:
        handle.write(b'{"i": 2, "trunc')  # a writer crashed mid-record
    reader = FileLogStream(str(tmp_path))
    assert [r.data["i"] for r in await reader.read("g", "c")] == [0, 1]
    assert await FileLogStream(str(tmp_path)).push([{"i": 2}]) == ["2"]
    assert [r.data["i"] for r in await reader.read("g", "c")] == [2]


async def test_group_state_is_a_compact_file(tmp_path: Path) -> None:
    stream = FileLogStream(str(tmp_path))
    await stream.push([{"i": i} for i in range(5)])
    await stream.ack("g", ["0", "1", "3"])
    state = json.loads((tmp_path / "groups" / "g.json").read_text())
    assert state == {"committed": 2, "acked": [3]}
    await stream.ack("g", ["2"])
    assert json.loads((tmp_path / "groups" / "g.json").read_text()) == {
        "committed": 4,
        "acked": [],
    }


def _writer(path: str, start: int) -> None:
    import asyncio

    stream = FileLogStream(path, segment_records=7)
    for i in range(start, start + 50):
        asyncio.run(stream.push([{"i": i}, {"i": i + 1000}]))


async def test_concurrent_writer_processes_never_interleave_or_lose(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), s)) for s in (0, 100)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    got = await FileLogStream(str(tmp_path)).read("g", "c", count=1000)
    values = [r.data["i"] for r in got]
    assert sorted(values) == sorted(
        [*range(0, 50), *range(100, 150)] + [v + 1000 for v in [*range(0, 50), *range(100, 150)]]
    )
    # each push of two records stays contiguous
    for k in range(0, len(values), 2):
        assert values[k + 1] == values[k] + 1000


def test_urls_and_bad_parameters(tmp_path: Path) -> None:
    assert path_from_url("file:///var/log/x") == Path("/var/log/x")
    assert path_from_url("relative/dir") == Path("relative/dir")
    with pytest.raises(ConfigError, match="segment_records"):
        FileLogStream(str(tmp_path), segment_records=0)
    with pytest.raises(ConfigError, match="'group'"):
        FileLogStream(str(tmp_path))._group_file("../evil")


async def test_unserialisable_records_and_unwritable_paths_raise_stream_error(
    tmp_path: Path,
) -> None:
    stream = FileLogStream(str(tmp_path))
    looped: dict[str, object] = {}
    looped["self"] = looped
    with pytest.raises(StreamError, match="JSON-serialisable"):
        await stream.push([looped])
    (tmp_path / "afile").write_text("")
    with pytest.raises(StreamError, match="cannot create"):
        FileLogStream(str(tmp_path / "afile" / "sub"))
