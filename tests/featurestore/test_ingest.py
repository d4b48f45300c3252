"""Ingestion: sources, validation of bad input, schema inference, statistics, targets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from servegraph.errors import EntityError, FeatureStoreError, OnlineStoreError, SchemaError
from servegraph.featurestore import (
    Entity,
    Feature,
    FeatureSet,
    InferOptions,
    ParquetTarget,
    RedisTarget,
    SQLiteTarget,
    get_feature_set,
    ingest,
)
from servegraph.featurestore.targets import SQLiteTarget as _SQLite


def _fset(name: str = "tx") -> FeatureSet:
    fset = FeatureSet(name, entities=["id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum", "count"], ["1h"], period="10m")
    return fset


def test_ingest_infers_schema_computes_stats_and_saves(events: pd.DataFrame) -> None:
    fset = _fset()
    ingest(fset, events)
    loaded = get_feature_set("tx")
    types = {f.name: f.value_type for f in loaded.features}
    assert types["amount"] == "float"
    assert types["channel"] == "str"
    assert types["amount_sum_1h"] == "float"
    assert loaded.entities[0].value_type == "int"
    stats = loaded.get_stats_table()
    assert stats.loc["amount", "mean"] == pytest.approx(events["amount"].mean())
    assert stats.loc["channel", "unique"] == 3
    assert "id" not in stats.index
    assert loaded.stats["amount"]["hist"][0] and len(loaded.stats["amount"]["hist"][1]) == 21


def test_infer_options_none_keeps_schema_and_stats_empty(events: pd.DataFrame) -> None:
    fset = _fset()
    ingest(fset, events, infer_options=InferOptions.NONE)
    assert fset.features == []
    assert fset.stats == {}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_ingest_from_files(events: pd.DataFrame, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"events.{fmt}"
    if fmt == "csv":
        events.to_csv(path, index=False)
    else:
        events.to_parquet(path)
    out = ingest(_fset(), str(path))
    assert out is not None
    assert len(out) == len(events)
    assert pd.api.types.is_datetime64_any_dtype(out["time"])


def test_offline_overwrite_replaces_and_append_adds(events: pd.DataFrame) -> None:
    fset = _fset()
    ingest(fset, events)
    ingest(fset, events)
    target = fset.offline_target()
    assert len(target.read(fset.key, "time")) == len(events)
    ingest(fset, events, overwrite=False)
    assert len(target.read(fset.key, "time")) == 2 * len(events)


def test_offline_target_is_partitioned_by_day(events: pd.DataFrame) -> None:
    fset = _fset()
    ingest(fset, events)
    root = fset.offline_target().location(fset.key)  # type: ignore[attr-defined]
    assert sorted(p.name for p in root.iterdir()) == ["year=2024"]
    assert (root / "year=2024" / "month=3" / "day=1").is_dir()


def test_missing_entity_column_names_it(events: pd.DataFrame) -> None:
    with pytest.raises(EntityError, match="'id'"):
        ingest(_fset(), events.drop(columns="id"))


def test_missing_timestamp_column_names_it(events: pd.DataFrame) -> None:
    with pytest.raises(EntityError, match="timestamp column 'time'"):
        ingest(_fset(), events.drop(columns="time"))


def test_null_entity_values_are_refused(events: pd.DataFrame) -> None:
    bad = events.astype({"id": "float"})
    bad.loc[3, "id"] = None
    with pytest.raises(EntityError, match="1 null"):
        ingest(_fset(), bad)


def test_unparseable_timestamp_is_a_schema_error(events: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="'time'"):
        ingest(_fset(), events.assign(time="not a time"))


def test_aggregating_text_is_a_schema_error(events: pd.DataFrame) -> None:
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time")
    fset.add_aggregation("channel", ["sum"], ["1h"], period="10m")
    with pytest.raises(SchemaError, match="'channel'"):
        ingest(fset, events)


def test_declared_feature_type_mismatch_is_a_schema_error(events: pd.DataFrame) -> None:
    fset = FeatureSet(
        "tx", entities=["id"], timestamp_key="time", features=[Feature("channel", "float")]
    )
    with pytest.raises(SchemaError, match=r"'channel' .* 'float' .* 'str'"):
        ingest(fset, events)


def test_declared_feature_missing_is_a_schema_error(events: pd.DataFrame) -> None:
    fset = FeatureSet("tx", entities=["id"], features=[Feature("nope", "int")])
    with pytest.raises(SchemaError, match="'nope'"):
        ingest(fset, events)


def test_bad_source_type_is_refused() -> None:
    with pytest.raises(FeatureStoreError, match="source"):
        ingest(_fset(), 42)
    with pytest.raises(FeatureStoreError, match=r"data\.json"):
        ingest(_fset(), "data.json")


def test_unreachable_online_store_says_what_was_written(events: pd.DataFrame) -> None:
    fset = _fset()
    fset.set_targets([ParquetTarget(), RedisTarget("redis://127.0.0.1:1", prefix="x:")])
    with pytest.raises(OnlineStoreError, match=r"offline targets written: \['parquet'\].*0 of 8"):
        ingest(fset, events)


def test_a_failed_second_online_store_names_the_one_already_written(
    events: pd.DataFrame,
) -> None:
    fset = _fset()
    unreachable = RedisTarget("redis://127.0.0.1:1", prefix="x:")
    fset.set_targets([ParquetTarget(), SQLiteTarget(), unreachable])
    with pytest.raises(
        OnlineStoreError, match=r"online targets written: \['sqlite: 8 of 8 rows'\].*'redis'"
    ):
        ingest(fset, events)


def test_sqlite_write_is_all_or_nothing(tmp_path: Path) -> None:
    store = _SQLite(f"sqlite:///{tmp_path / 'online.db'}").open()
    store.write("p/s", {"1": {"a": 1}})
    with pytest.raises(OnlineStoreError, match="rolled back"):
        store.write("p/s", {"2": {"a": 2}, "3": {"a": object()}})
    assert store.read([("p/s", "2")], [["a"]]) == [None]
    assert store.read([("p/s", "1")], [["a"]]) == [{"a": 1}]
    store.close()


def test_plain_feature_set_without_aggregations(events: pd.DataFrame) -> None:
    fset = FeatureSet("plain", entities=["id"])
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    out = ingest(fset, events)
    assert out is not None
    assert list(out.columns) == ["id", "time", "amount", "channel"]


def test_entity_type_mismatch_is_a_schema_error(events: pd.DataFrame) -> None:
    fset = FeatureSet("tx", entities=[Entity("id", "int")], timestamp_key="time")
    with pytest.raises(SchemaError, match=r"entity 'id' .* 'int' .* 'str'"):
        ingest(fset, events.astype({"id": str}))


def test_missing_values_do_not_change_a_column_type_on_later_ingestions() -> None:
    fset = FeatureSet("flags", entities=["id"])
    first = pd.DataFrame({"id": [1, 2], "vip": [True, False], "tier": ["a", "b"]})
    ingest(fset, first)
    types = {f.name: f.value_type for f in get_feature_set("flags").features}
    assert types == {"vip": "bool", "tier": "str"}
    # a bool column with a gap is object dtype; a text column without values is float NaN
    later = pd.DataFrame({"id": [3, 4], "vip": [True, None], "tier": [None, None]})
    result = ingest(get_feature_set("flags"), later, overwrite=False)
    assert result is not None and list(result["vip"]) == [True, None]


def test_mixed_values_in_a_declared_column_are_a_schema_error() -> None:
    fset = FeatureSet("flags", entities=["id"], features=[Feature("vip", "bool")])
    with pytest.raises(SchemaError, match=r"'vip' .* 'bool' .* 'object'"):
        ingest(fset, pd.DataFrame({"id": [1, 2], "vip": [True, "yes"]}))
