"""WindowStore: atomic part files, rows deduplicated by (offset, row)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from servegraph.monitoring.datastore import WindowStore

START = pd.Timestamp("2026-03-01T10:00:00Z")


def test_a_redelivered_batch_is_stored_again_but_loaded_once(tmp_path: Path) -> None:
    store = WindowStore(tmp_path / "data")
    part = pd.DataFrame({"_offset": ["1", "1", "2"], "_row": [0, 1, 0], "x": [1.0, 2.0, 3.0]})
    store.append("ns/ep", START, part)
    store.append("ns/ep", START, part.iloc[1:])  # re-delivered after a crash
    assert len(list((tmp_path / "data").rglob("part-*.parquet"))) == 2
    assert store.load("ns/ep", START)["x"].tolist() == [1.0, 2.0, 3.0]
    assert store.endpoints() == ["ns/ep"]
    assert store.load("ns/ep", START + pd.Timedelta("1h")).empty
