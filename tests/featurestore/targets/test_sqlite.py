"""The SQLite online store: replace rows, read many in one query, delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.errors import ConfigError, OnlineStoreError
from servegraph.featurestore import SQLiteTarget


def test_write_read_replace_delete(tmp_path: Path) -> None:
    store = SQLiteTarget(f"sqlite:///{tmp_path / 'o.db'}").open()
    report = store.write("p/a", {"1": {"x": 1.5, "y": "u"}, "2": {"x": 2.0, "y": None}})
    assert (report.written, report.total) == (2, 2)
    store.write("p/b", {"1": {"z": 7}})
    rows = store.read(
        [("p/a", "2"), ("p/b", "1"), ("p/a", "1"), ("p/a", "9")], [["y", "x"], ["z"], ["x"], ["x"]]
    )
    assert rows == [{"y": None, "x": 2.0}, {"z": 7}, {"x": 1.5}, None]
    store.write("p/a", {"1": {"x": 3.0}})
    assert store.read([("p/a", "1")], [["x", "y"]]) == [{"x": 3.0, "y": None}]
    store.delete("p/a")
    assert store.read([("p/a", "1"), ("p/b", "1")], [["x"], ["z"]]) == [None, {"z": 7}]
    assert store.read([], []) == []
    store.close()


def test_bad_url_and_unopenable_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sqlite:///"):
        SQLiteTarget("postgresql://x")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OnlineStoreError, match="cannot open"):
        SQLiteTarget(f"sqlite:///{blocker / 'o.db'}").open()
