"""The online feature service on both stores: latest values, two feature sets, impute."""

from __future__ import annotations

import pandas as pd
import pytest

from servegraph.errors import EntityError, FeatureStoreError, OnlineStoreError
from servegraph.featurestore import (
    Feature,
    FeatureSet,
    FeatureVector,
    ParquetTarget,
    RedisTarget,
    SQLiteTarget,
    get_offline_features,
    get_online_feature_service,
    ingest,
)
from servegraph.featurestore.targets import OnlineTarget


@pytest.fixture(params=["sqlite", "redis"])
def online(request: pytest.FixtureRequest) -> OnlineTarget:
    if request.param == "sqlite":
        return SQLiteTarget()
    target: RedisTarget = request.getfixturevalue("redis_target")
    return target


def _ingest_two_sets(events: pd.DataFrame, online: OnlineTarget) -> None:
    tx = FeatureSet("tx", entities=["id"], timestamp_key="time")
    tx.add_aggregation("amount", ["sum", "avg", "count"], ["1h", "6h"], period="10m")
    tx.set_targets([ParquetTarget(), online])
    ingest(tx, events)
    profile = FeatureSet("profile", entities=["id"])
    profile.set_targets([ParquetTarget(), online])
    ingest(
        profile,
        pd.DataFrame(
            {
                "id": [0, 1, 2, 3],
                "age": [31, 45, 27, 60],
                "tier": ["gold", "basic", "basic", "gold"],
            }
        ),
    )


def test_online_values_equal_latest_offline_rows(
    events: pd.DataFrame, online: OnlineTarget
) -> None:
    _ingest_two_sets(events, online)
    FeatureVector("vec", ["tx.*"]).save()
    offline = get_offline_features("vec")
    latest = offline.sort_values("time").groupby("id").tail(1).set_index("id")
    svc = get_online_feature_service("vec")
    try:
        ids = sorted(int(i) for i in events["id"].unique())
        got = svc.get([{"id": i} for i in ids])
        for entity, row in zip(ids, got, strict=True):
            expected = latest.loc[entity].drop("time").to_dict()
            assert row.keys() == expected.keys()
            for name, value in expected.items():
                assert row[name] == pytest.approx(value), (entity, name)
    finally:
        svc.close()


def test_vector_across_two_feature_sets(events: pd.DataFrame, online: OnlineTarget) -> None:
    _ingest_two_sets(events, online)
    vec = FeatureVector("vec", ["tx.amount_sum_1h", "profile.age", "profile.tier as level"])
    svc = get_online_feature_service(vec)
    try:
        rows = svc.get([{"id": 1}, 2])
        assert [list(r) for r in rows] == [["amount_sum_1h", "age", "level"]] * 2
        assert rows[0]["age"] == 45 and rows[0]["level"] == "basic"
        assert rows[1]["age"] == 27
        assert isinstance(rows[0]["amount_sum_1h"], float)
        assert svc.get([3], as_list=True)[0][1:] == [60, "gold"]
    finally:
        svc.close()


def test_unknown_entity_gives_none_or_imputed_values(
    events: pd.DataFrame, online: OnlineTarget
) -> None:
    _ingest_two_sets(events, online)
    vec = FeatureVector("vec", ["tx.amount_avg_6h", "profile.age", "profile.tier"])
    svc = get_online_feature_service(vec)
    assert svc.get([999]) == [{"amount_avg_6h": None, "age": None, "tier": None}]
    svc.close()
    policy = {"*": "$mean", "age": -1, "tier": "unknown"}
    svc = get_online_feature_service(vec, impute_policy=policy)
    try:
        row = svc.get([{"id": 999}])[0]
        tx_mean = get_offline_features(FeatureVector("m", ["tx.amount_avg_6h"]))[
            "amount_avg_6h"
        ].mean()
        assert row["amount_avg_6h"] == pytest.approx(tx_mean)
        assert row["age"] == -1
        assert row["tier"] == "unknown"
        # present entities keep their own values
        assert svc.get([{"id": 0}])[0]["age"] == 31
    finally:
        svc.close()


def test_impute_with_median_and_max(events: pd.DataFrame, online: OnlineTarget) -> None:
    _ingest_two_sets(events, online)
    vec = FeatureVector("vec", ["profile.age"])
    for rule, expected in [("$median", 38.0), ("$max", 60.0), ("$min", 27.0)]:
        svc = get_online_feature_service(vec, impute_policy={"age": rule})
        assert svc.get([7]) == [{"age": expected}]
        svc.close()


def test_impute_with_unknown_statistic_names_it(events: pd.DataFrame) -> None:
    _ingest_two_sets(events, SQLiteTarget())
    with pytest.raises(FeatureStoreError, match=r"'\$mode' for feature 'tier'"):
        get_online_feature_service(FeatureVector("v", ["profile.tier"]), {"tier": "$mode"})


def test_entity_row_without_the_entity_names_it(events: pd.DataFrame) -> None:
    _ingest_two_sets(events, SQLiteTarget())
    svc = get_online_feature_service(FeatureVector("v", ["profile.age"]))
    with pytest.raises(EntityError, match="'id'"):
        svc.get([{"customer": 1}])
    svc.close()


def test_unreachable_redis_on_get(events: pd.DataFrame) -> None:
    fset = FeatureSet("profile", entities=["id"], features=[Feature("age", "int")])
    fset.set_targets([ParquetTarget(), RedisTarget("redis://127.0.0.1:1", prefix="x:")])
    fset.save()
    svc = get_online_feature_service(FeatureVector("v", ["profile.age"]))
    with pytest.raises(OnlineStoreError, match=r"127\.0\.0\.1:1"):
        svc.get([1])
    svc.close()


def test_two_entity_keys(online: OnlineTarget) -> None:
    fset = FeatureSet("regional", entities=["user", "region"])
    fset.set_targets([ParquetTarget(), online])
    ingest(
        fset,
        pd.DataFrame({"user": [1, 1, 2], "region": ["eu", "us", "eu"], "spend": [1.0, 2.0, 3.0]}),
    )
    svc = get_online_feature_service(FeatureVector("v", ["regional.spend"]))
    try:
        rows = [
            {"user": 1, "region": "us"},
            {"user": 2, "region": "eu"},
            {"user": 2, "region": "us"},
        ]
        assert svc.get(rows, as_list=True) == [[2.0], [3.0], [None]]
        with pytest.raises(EntityError, match="dicts"):
            svc.get([1])
    finally:
        svc.close()
