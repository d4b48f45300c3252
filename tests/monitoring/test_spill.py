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


def test_records_appended_after_a_torn_line_are_replayed(tmp_path: Path) -> None:
    (tmp_path / "s-0.jsonl").write_bytes(b'{"i":1}\n{"i":')  # killed mid-append
    spill = SpillFile.acquire(tmp_path, "s")
    spill.append([{"i": 2}])
    assert len(spill) == 2
    assert spill.peek(10)[0] == [{"i": 1}, {"i": 2}]
    spill.close()


def test_a_position_left_past_the_end_by_a_kill_is_reset(tmp_path: Path) -> None:
    # killed after emptying the file, before removing the read position
    (tmp_path / "s-0.jsonl").write_bytes(b"")
    (tmp_path / "s-0.pos").write_text("48")
    spill = SpillFile.acquire(tmp_path, "s")
    spill.append([{"i": 1}])
    records, size = spill.peek(10)
    assert records == [{"i": 1}]
    spill.advance(size, len(records))
    assert len(spill) == 0
    spill.close()
