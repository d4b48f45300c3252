"""Flattening endpoint records: one row per input row, named features, no lost records."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from servegraph.monitoring.records import feature_columns, flatten


def test_rows_named_by_the_endpoint_features_or_positions() -> None:
    records = [
        ("1", {"endpoint_id": "a", "inputs": [[1, 2]], "outputs": [9], "timestamp": "2026-01-01"}),
        ("2", {"endpoint_id": "b", "inputs": [[1, 2, 3]], "timestamp": "2026-01-01T00:00:00Z"}),
        ("3", {"endpoint_id": "c", "inputs": [{"x": 1, "y": [1, 2]}], "timestamp": None}),
    ]
    frames = flatten(records, {"a": ["p", "q"]})
    assert feature_columns(frames["a"]) == ["p", "q"] and frames["a"]["output"].tolist() == [9]
    assert feature_columns(frames["b"]) == ["f0", "f1", "f2"]
    assert frames["c"]["y"].tolist() == ["[1, 2]"]  # nested values are kept as JSON text


def test_records_without_rows_or_time_still_count(caplog: pytest.LogCaptureFixture) -> None:
    records = [
        ("1", {"endpoint_id": "a", "inputs": "bad", "error": "BadRequestError", "timestamp": "x"}),
        ("2", {"inputs": [[1]]}),  # no endpoint: skipped with a warning
    ]
    with caplog.at_level(logging.WARNING):
        frames = flatten(records, {})
    (row,) = frames["a"].to_dict("records")
    assert row["_row"] == -1 and row["error"] == "BadRequestError"
    assert isinstance(row["timestamp"], pd.Timestamp)
    assert "without endpoint_id" in caplog.text and "no valid timestamp" in caplog.text
