"""The Parquet offline target: time partitions, append/overwrite, time-range reads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from servegraph.errors import FeatureStoreError
from servegraph.featurestore import ParquetTarget
from servegraph.featurestore.targets import target_from_dict

FRAME = pd.DataFrame(
    {
        "k": [1, 2, 1],
        "t": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 11:30", "2024-01-02 12:00"]),
        "v": [1.0, 2.0, 3.0],
    }
)


def test_hour_partitions_and_range_reads(tmp_path: Path) -> None:
    target = ParquetTarget(str(tmp_path / "fs"), partition="hour")
    target.write("p/s", FRAME, "t", overwrite=True)
    assert (tmp_path / "fs" / "year=2024" / "month=1" / "day=2" / "hour=11").is_dir()
    got = target.read("p/s", "t")
    pd.testing.assert_frame_equal(got, FRAME, check_dtype=False)
    window = target.read("p/s", "t", pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-02 12:00"))
    assert list(window["v"]) == [2.0]
    assert list(target.read("p/s", "t", columns=["k", "v"]).columns) == ["k", "v"]


def test_default_location_is_under_the_offline_root(servegraph_home: Path) -> None:
    target = ParquetTarget()
    target.write("p/s", FRAME, "t", overwrite=False)
    target.write("p/s", FRAME, "t", overwrite=False)
    assert target.location("p/s") == servegraph_home / "offline" / "p" / "s"
    assert len(target.read("p/s", "t")) == 6


def test_without_timestamp_there_are_no_partitions(tmp_path: Path) -> None:
    target = ParquetTarget(str(tmp_path / "fs"))
    target.write("p/s", FRAME.drop(columns="t"), None, overwrite=True)
    assert len(target.read("p/s", None)) == 3


def test_errors_and_round_trip(tmp_path: Path) -> None:
    with pytest.raises(FeatureStoreError, match="'week'"):
        ParquetTarget(partition="week")
    with pytest.raises(FeatureStoreError, match="ingest it first"):
        ParquetTarget(str(tmp_path / "none")).read("p/s", "t")
    target = ParquetTarget("/x", partition=None)
    assert target_from_dict(target.to_dict()).to_dict() == target.to_dict()


def test_a_batch_written_twice_is_stored_once(tmp_path: Path) -> None:
    target = ParquetTarget(str(tmp_path / "fs"), partition="day")
    target.write("p/s", FRAME, "t", overwrite=False, batch_id="b1")
    target.write("p/s", FRAME, "t", overwrite=False, batch_id="b1")
    assert len(target.read("p/s", "t")) == 3
    target.write("p/s", FRAME, "t", overwrite=False, batch_id="b2")
    assert len(target.read("p/s", "t")) == 6
