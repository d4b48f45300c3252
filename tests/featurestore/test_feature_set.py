"""FeatureSet: validation, features, targets, dict round trip and the catalog."""

from __future__ import annotations

import pytest

from servegraph.errors import EntityError, FeatureNotFoundError, FeatureStoreError, InvalidNameError
from servegraph.featurestore import (
    Entity,
    FeatureSet,
    ParquetTarget,
    RedisTarget,
    SQLiteTarget,
    get_feature_set,
)


def test_defaults_and_uri() -> None:
    fset = FeatureSet("orders", entities=["customer_id"], timestamp_key="time", project="shop")
    assert fset.entities == [Entity("customer_id")]
    assert fset.uri == "store://feature-sets/shop/orders:latest"
    kinds = [t.kind for t in fset.get_targets()]
    assert kinds == ["parquet", "sqlite"]


def test_default_online_target_follows_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVEGRAPH_ONLINE_STORE", "redis://127.0.0.1:6379/0")
    assert FeatureSet("s", entities=["k"]).online_target().kind == "redis"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": ""}, InvalidNameError, "feature set name"),
        ({"name": "a/b"}, InvalidNameError, "feature set name"),
        ({"engine": "spark"}, FeatureStoreError, "'spark'"),
        ({"entities": []}, EntityError, "entity"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    args: dict[str, object] = {"name": "s", "entities": ["k"]} | kwargs
    with pytest.raises(error, match=match):
        FeatureSet(**args)  # type: ignore[arg-type]


def test_aggregation_needs_timestamp_and_unique_names() -> None:
    with pytest.raises(EntityError, match="timestamp_key"):
        FeatureSet("s", entities=["k"]).add_aggregation("x", ["sum"], ["1h"])
    fset = FeatureSet("s", entities=["k"], timestamp_key="t")
    fset.add_aggregation("x", ["sum"], "1h", period="10m")
    with pytest.raises(FeatureStoreError, match="x_sum_1h"):
        fset.add_aggregation("x", ["sum", "max"], ["1h"], period="10m")
    fset.check_features(["x_sum_1h"])
    with pytest.raises(FeatureNotFoundError, match="'nope'"):
        fset.check_features(["nope"])


def test_dict_round_trip_through_the_catalog() -> None:
    fset = FeatureSet(
        "orders",
        entities=[Entity("cid", "int")],
        timestamp_key="time",
        description="orders per customer",
        project="shop",
        tag="v1",
    )
    fset.add_aggregation("amount", ["avg", "std"], ["1h", "1d"], period="1h", name="spend")
    fset.set_targets(
        [ParquetTarget(partition="hour"), RedisTarget("redis://127.0.0.1:6379/0", prefix="p:")]
    )
    fset.graph.to(name="double", handler="(event)")
    uri = fset.save()
    loaded = get_feature_set(uri)
    assert loaded.to_dict() == fset.to_dict()
    assert loaded.feature_names() == [
        "spend_avg_1h",
        "spend_std_1h",
        "spend_avg_1d",
        "spend_std_1d",
    ]
    assert get_feature_set("orders:v1", project="shop").description == "orders per customer"
    assert isinstance(loaded.online_target(), RedisTarget)


def test_without_offline_or_online_target() -> None:
    fset = FeatureSet("s", entities=["k"])
    fset.set_targets([SQLiteTarget()])
    with pytest.raises(FeatureStoreError, match="no offline target"):
        fset.offline_target()
    fset.set_targets([ParquetTarget()])
    with pytest.raises(FeatureStoreError, match="no online target"):
        fset.online_target()
