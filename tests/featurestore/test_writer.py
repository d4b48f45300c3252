"""Writing targets: the latest row per entity and entity keys."""

from __future__ import annotations

import pandas as pd

from servegraph.featurestore import FeatureSet
from servegraph.featurestore.writer import entity_key, latest_rows


def test_latest_row_per_entity_by_time_then_order() -> None:
    fset = FeatureSet("s", entities=["k"], timestamp_key="t")
    df = pd.DataFrame(
        {
            "k": [1, 2, 1, 1],
            "t": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-01", "2024-01-02"]),
            "v": [1.0, 2.0, 3.0, float("nan")],
        }
    )
    rows = latest_rows(fset, df)
    assert rows == {
        "1": {"k": 1, "t": "2024-01-02T00:00:00", "v": None},  # same time: the later row
        "2": {"k": 2, "t": "2024-01-01T00:00:00", "v": 2.0},
    }


def test_without_timestamp_the_last_row_wins() -> None:
    fset = FeatureSet("s", entities=["a", "b"])
    df = pd.DataFrame({"a": [1, 1], "b": ["x", "x"], "v": [1, 2]})
    assert latest_rows(fset, df) == {"1.x": {"a": 1, "b": "x", "v": 2}}
    assert entity_key([7, "eu"]) == "7.eu"
