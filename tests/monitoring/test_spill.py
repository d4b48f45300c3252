"""SpillFile: an on-disk FIFO that survives its owner and is owned by one process."""

from __future__ import annotations

from pathlib import Path

from servegraph.monitoring.spill import SpillFile


def test_fifo_survives_reopening(tmp_path: Path) -> None:
    spill = SpillFile.acquire(tmp_path, "s")
    spill.append([{"i": i} for i in range(5)])
    records, size = spill.peek(2)
    spill.advance(size, len(records))
    spill.close()
    reopened = SpillFile.acquire(tmp_path, "s")
    assert len(reopened) == 3
    assert reopened.peek(10)[0] == [{"i": 2}, {"i": 3}, {"i": 4}]
    reopened.close()


def test_a_held_file_is_not_shared(tmp_path: Path) -> None:
    first = SpillFile.acquire(tmp_path, "s")
    second = SpillFile.acquire(tmp_path, "s")
    assert first.path != second.path
    first.close()
    second.close()


def test_a_torn_last_line_is_not_read(tmp_path: Path) -> None:
    spill = SpillFile.acquire(tmp_path, "s")
    spill.append([{"i": 1}])
    with open(spill.path, "ab") as handle:
        handle.write(b'{"i": 2')
    assert spill.peek(10)[0] == [{"i": 1}]
    spill.close()
