"""A local FIFO of records on disk, where the tracker parks records the broker refused.

Records are JSON lines appended at the end; ``peek(n)`` reads from the saved
read position and ``advance`` moves it (persisted in ``<file>.pos``) once the
records were pushed, so a restart replays exactly what is left, in order.
The file is held with an exclusive ``flock`` by its one owner; opening it cuts a
torn last line a killed owner left, and the position is replaced atomically.

>>> import tempfile, pathlib
>>> spill = SpillFile.acquire(pathlib.Path(tempfile.mkdtemp()), "events")
>>> spill.append([{"i": 1}, {"i": 2}])
16
>>> records, size = spill.peek(10)
>>> records
[{'i': 1}, {'i': 2}]
>>> spill.advance(size, len(records)); len(spill)
0
>>> spill.close()
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

from servegraph.errors import MonitoringError
from servegraph.streams.codec import decode, encode


class SpillFile:
    """An on-disk FIFO of JSON records; see the module docstring."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self._handle = handle  # held open for the lock
        self._pos_path = path.with_suffix(".pos")
        try:
            self._pos = int(self._pos_path.read_text())
        except (FileNotFoundError, ValueError):
            self._pos = 0
        self._cut_torn_tail()
        self._count = self._count_from(self._pos)

    def _cut_torn_tail(self) -> None:
        """Undo what a killed owner left half-done: a partial last line, a stale position."""
        self._handle.seek(0)
        data = self._handle.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self._handle.truncate(end)
        if self._pos > end:  # killed after emptying the file, before dropping the position
            self._pos = 0
            self._pos_path.unlink(missing_ok=True)

    @classmethod
    def acquire(cls, directory: Path, name: str) -> SpillFile:
        """Open the first ``<name>-<k>.jsonl`` in ``directory`` no other process holds."""
        directory.mkdir(parents=True, exist_ok=True)
        for k in range(64):
            path = directory / f"{name}-{k}.jsonl"
            handle = open(path, "a+b")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return cls(path, handle)
        raise MonitoringError(f"no free spill file for {name!r} in {directory}")

    def _count_from(self, pos: int) -> int:
        with open(self.path, "rb") as handle:
            handle.seek(pos)
            return sum(1 for line in handle if line.endswith(b"\n"))

    def __len__(self) -> int:
        return self._count

    def append(self, records: list[dict[str, Any]]) -> int:
        """Add records at the end (a local file write); return the bytes written."""
        if not records:
            return 0
        raw = b"".join(encode(r) + b"\n" for r in records)
        self._handle.seek(0, 2)
        self._handle.write(raw)
        self._handle.flush()
        self._count += len(records)
        return len(raw)

    def peek(self, n: int) -> tuple[list[dict[str, Any]], int]:
        """The next ``n`` records and their size in bytes (pass it to ``advance``)."""
        out: list[dict[str, Any]] = []
        size = 0
        with open(self.path, "rb") as handle:
            handle.seek(self._pos)
            for line in handle:
                if len(out) >= n or not line.endswith(b"\n"):
                    break
                out.append(decode(line))
                size += len(line)
        return out, size

    def advance(self, size: int, count: int) -> None:
        """Drop the ``count`` records (``size`` bytes) just pushed; empty the file when done."""
        self._pos += size
        self._count -= count
        if self._count == 0:
            self._handle.truncate(0)
            self._pos = 0
            self._pos_path.unlink(missing_ok=True)
        else:  # write then rename: a kill never leaves a torn position behind
            tmp = self._pos_path.with_suffix(".pos.tmp")
            tmp.write_text(str(self._pos))
            os.replace(tmp, self._pos_path)

    def close(self) -> None:
        """Release the lock; remaining records stay on disk for the next owner."""
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
