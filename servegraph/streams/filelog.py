"""The embedded stream backend: an append-only log of JSON lines on local disk.

Layout of a stream directory::

    segments/00000000000000000000.log   records 0..N-1, one JSON document a line
    segments/00000000000000010000.log   the next segment (``segment_records`` each)
    groups/<group>.json                 {"committed": n, "acked": [...]} per consumer group
    writer.lock                         held (flock) while appending

Offsets are the records' sequence numbers as decimal strings ("0", "1", ...).
Appends take an exclusive ``flock`` and a torn last line left by a crashed
writer is cut off, so one writer process (or several) and any number of readers
are safe. A consumer group persists what it acknowledged; a new stream object
re-delivers every record of the group that was delivered but never acked, so
records survive restarts with at-least-once semantics. One consumer process per
group is assumed (the delivery cursor lives in memory).

>>> import asyncio, tempfile
>>> stream = FileLogStream(tempfile.mkdtemp())
>>> asyncio.run(stream.push([{"x": 1}, {"x": 2}]))
['0', '1']
>>> [r.data for r in asyncio.run(stream.read("g", "c1"))]
[{'x': 1}, {'x': 2}]
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from servegraph.errors import ConfigError, RecordEncodingError, StreamError
from servegraph.streams.base import Record
from servegraph.streams.codec import encode, to_record

_SEGMENT_WIDTH = 20


def path_from_url(url: str) -> Path:
    """Return the directory of a ``file://`` URL or a plain path."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        raw = unquote(parts.netloc + parts.path)
    else:
        raw = url
    if not raw:
        raise ConfigError(f"The 'url' parameter of FileLogStream must name a path. Got {url!r}.")
    return Path(raw).expanduser()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class _Segment:
    """Byte positions of the complete lines of one segment file, extended as it grows."""

    base: int
    path: Path
    starts: list[int] = field(default_factory=list)
    scanned: int = 0  # bytes scanned; starts holds every line beginning before it

    def refresh(self) -> int:
        """Index lines written since the last call; return the file size."""
        size = self.path.stat().st_size
        if size <= self.scanned:
            return size
        with open(self.path, "rb") as handle:
            handle.seek(self.scanned)
            chunk = handle.read(size - self.scanned)
        end = chunk.rfind(b"\n")
        if end < 0:
            return size
        pos = 0
        while pos <= end:
            self.starts.append(self.scanned + pos)
            pos = chunk.index(b"\n", pos) + 1
        self.scanned += end + 1
        return size

    def appended(self, lines: list[bytes]) -> None:
        """Index lines this process just appended (no need to read them back)."""
        pos = self.scanned
        for line in lines:
            self.starts.append(pos)
            pos += len(line)
        self.scanned = pos

    def read(self, first: int, last: int) -> list[bytes]:
        """Lines ``first..last-1`` (indexes within the segment)."""
        stop = self.starts[last] if last < len(self.starts) else self.scanned
        with open(self.path, "rb") as handle:
            handle.seek(self.starts[first])
            data = handle.read(stop - self.starts[first])
        return data.splitlines()


@dataclass
class _Group:
    committed: int
    acked: set[int]
    cursor: int  # next offset to consider for delivery by this object


class FileLogStream:
    """A stream stored as segment files under a directory; see the module docstring.

    Parameters: ``url`` (``file:///dir`` or a plain directory path),
    ``segment_records`` (records per segment file), ``poll_interval_ms``
    (how often a blocking ``read`` looks for new records), ``fsync`` (sync
    each append to disk, slower but durable against power loss).
    """

    def __init__(
        self,
        url: str,
        *,
        segment_records: int = 10_000,
        poll_interval_ms: int = 20,
        fsync: bool = False,
    ) -> None:
        if segment_records < 1:
            raise ConfigError(
                "The 'segment_records' parameter of FileLogStream must be a positive int. "
                f"Got {segment_records!r} instead."
            )
        self.url = url
        self.path = path_from_url(url)
        self.segment_records = segment_records
        self.poll_interval_ms = poll_interval_ms
        self.fsync = fsync
        self._segments: dict[int, _Segment] = {}
        self._groups: dict[str, _Group] = {}
        try:
            (self.path / "segments").mkdir(parents=True, exist_ok=True)
            (self.path / "groups").mkdir(exist_ok=True)
        except OSError as exc:
            raise StreamError(f"cannot create the file log at {self.path}: {exc}") from exc

    # -- segments -----------------------------------------------------------------

    def _segment_bases(self) -> list[int]:
        names = os.listdir(self.path / "segments")
        return sorted(int(n[:-4]) for n in names if n.endswith(".log"))

    def _segment(self, base: int) -> _Segment:
        seg = self._segments.get(base)
        if seg is None:
            seg = _Segment(base, self.path / "segments" / f"{base:0{_SEGMENT_WIDTH}d}.log")
            self._segments[base] = seg
        seg.refresh()
        return seg

    def _end_offset(self) -> int:
        bases = self._segment_bases()
        if not bases:
            return 0
        seg = self._segment(bases[-1])
        return seg.base + len(seg.starts)

    # -- producing ----------------------------------------------------------------

    async def push(self, records: list[dict[str, Any]]) -> list[str]:
        """Append ``records`` in order and return their offsets."""
        if not records:
            return []
        try:
            lines = [encode(r) + b"\n" for r in records]
        except RecordEncodingError as exc:
            raise RecordEncodingError(f"records pushed to {self.url}: {exc}") from exc
        try:
            with _locked(self.path / "writer.lock"):
                return self._append(lines)
        except OSError as exc:
            raise StreamError(f"cannot append to the file log {self.path}: {exc}") from exc

    def _append(self, lines: list[bytes]) -> list[str]:
        seg: _Segment | None = None
        start = 0
        bases = self._segment_bases()
        if bases:
            seg = self._segments.get(bases[-1]) or _Segment(
                bases[-1], self.path / "segments" / f"{bases[-1]:0{_SEGMENT_WIDTH}d}.log"
            )
            self._segments[seg.base] = seg
            if seg.refresh() != seg.scanned:  # a writer died mid-line
                seg = self._cut_torn_line(seg)
            start = seg.base + len(seg.starts)
        offsets: list[str] = []
        pos = 0
        while pos < len(lines):
            offset = start + pos
            if seg is None or offset - seg.base >= self.segment_records:
                seg = self._segment_new(offset)
            room = self.segment_records - (offset - seg.base)
            chunk = lines[pos : pos + room]
            with open(seg.path, "ab") as handle:
                handle.write(b"".join(chunk))
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
            seg.appended(chunk)
            offsets.extend(str(offset + i) for i in range(len(chunk)))
            pos += len(chunk)
        return offsets

    def _segment_new(self, base: int) -> _Segment:
        path = self.path / "segments" / f"{base:0{_SEGMENT_WIDTH}d}.log"
        path.touch()
        return self._segment(base)

    def _cut_torn_line(self, seg: _Segment) -> _Segment:
        """Drop the partial last record a crashed writer left; return the re-read segment."""
        with open(seg.path, "r+b") as handle:
            cut = handle.read().rfind(b"\n")
            handle.truncate(cut + 1)
        self._segments.pop(seg.base, None)
        return self._segment(seg.base)

    # -- consuming ----------------------------------------------------------------

    def _group_file(self, group: str) -> Path:
        if not group or "/" in group or group.startswith("."):
            raise ConfigError(
                f"The 'group' parameter of FileLogStream must be a plain name. Got {group!r}."
            )
        return self.path / "groups" / f"{group}.json"

    def _load_group(self, group: str) -> tuple[int, set[int]]:
        path = self._group_file(group)
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            return 0, set()
        return int(state["committed"]), {int(o) for o in state["acked"]}

    def _group(self, group: str) -> _Group:
        state = self._groups.get(group)
        if state is None:
            committed, acked = self._load_group(group)
            state = _Group(committed, acked, committed)
            self._groups[group] = state
        return state

    async def read(
        self, group: str, consumer: str, count: int = 100, block_ms: int = 0
    ) -> list[Record]:
        """Return up to ``count`` records not yet delivered to ``group`` by this object."""
        deadline = time.monotonic() + block_ms / 1000
        while True:
            try:
                records = self._read_now(group, count)
            except OSError as exc:
                raise StreamError(f"cannot read the file log {self.path}: {exc}") from exc
            if records or time.monotonic() >= deadline:
                return records
            await asyncio.sleep(self.poll_interval_ms / 1000)

    def _read_now(self, group: str, count: int) -> list[Record]:
        state = self._group(group)
        out: list[Record] = []
        bases = self._segment_bases()
        for i, base in enumerate(bases):
            next_base = bases[i + 1] if i + 1 < len(bases) else None
            if next_base is not None and state.cursor >= next_base:
                continue
            seg = self._segment(base)
            first = max(state.cursor - base, 0)
            last = min(len(seg.starts), first + count - len(out))
            if first >= last:
                continue
            for j, line in enumerate(seg.read(first, last)):
                offset = base + first + j
                if offset not in state.acked:
                    out.append(to_record(str(offset), line))
            state.cursor = base + last
            if len(out) >= count:
                break
        return out

    async def ack(self, group: str, offsets: list[str]) -> None:
        """Persist that ``group`` processed ``offsets``."""
        if not offsets:
            return
        path = self._group_file(group)
        try:
            with _locked(path.with_suffix(".lock")):
                committed, acked = self._load_group(group)
                acked.update(int(o) for o in offsets)
                while committed in acked:
                    acked.discard(committed)
                    committed += 1
                acked = {o for o in acked if o > committed}
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"committed": committed, "acked": sorted(acked)}))
                os.replace(tmp, path)
        except (OSError, ValueError) as exc:
            raise StreamError(
                f"cannot ack offsets of group {group!r} in {self.path}: {exc}"
            ) from exc
        state = self._group(group)
        state.committed, state.acked = committed, acked
        state.cursor = max(state.cursor, committed)

    async def close(self) -> None:
        """Nothing to release: files are opened per operation."""
        self._segments.clear()
        self._groups.clear()

    def __repr__(self) -> str:
        return f"FileLogStream({str(self.path)!r})"
