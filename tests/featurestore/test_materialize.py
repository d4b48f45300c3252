"""materialize: the online stores refilled from the offline store, latest row per entity."""

from __future__ import annotations

import pandas as pd
import pytest

from servegraph.errors import FeatureStoreError
from servegraph.featurestore import (
    FeatureSet,
    FeatureVector,
    ParquetTarget,
    RedisTarget,
    SQLiteTarget,
    get_online_feature_service,
    ingest,
)
from servegraph.featurestore.materialize import materialize

from .conftest import make_events


def _online(vector: str, ids: list[int]) -> list[dict[str, object]]:
    svc = get_online_feature_service(vector)
    try:
        return svc.get([{"id": i} for i in ids])
    finally:
        svc.close()


def _truth(df: pd.DataFrame, end: str | None = None) -> dict[int, float]:
    rows = df if end is None else df[df["time"] < pd.Timestamp(end)]
    return rows.sort_values("time").groupby("id")["amount_sum_1h"].last().to_dict()


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_materialize_writes_the_latest_row_per_entity_of_the_range(
    store: str, request: pytest.FixtureRequest
) -> None:
    online = SQLiteTarget() if store == "sqlite" else request.getfixturevalue("redis_target")
    assert isinstance(online, SQLiteTarget | RedisTarget)
    df = make_events(n=400, entities=5, seed=1)
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum"], ["1h"], period="10m")
    fset.set_targets([ParquetTarget(), online])
    out = ingest(fset, df)
    assert out is not None
    FeatureVector("tx-vec", ["tx.amount_sum_1h"]).save()
    store_ = online.open()
    store_.delete(fset.key)  # an empty online store
    store_.close()
    assert _online("tx-vec", [0]) == [{"amount_sum_1h": None}]

    reports = materialize("tx", start="2024-03-01", end="2024-03-01 06:00")
    assert [(r.written, r.total) for r in reports] == [(5, 5)]
    expected = _truth(out, "2024-03-01 06:00")
    got = _online("tx-vec", list(range(5)))
    assert [g["amount_sum_1h"] for g in got] == pytest.approx([expected[i] for i in range(5)])

    materialize("tx")  # the whole offline store: the latest rows
    latest = _truth(out)
    got = _online("tx-vec", list(range(5)))
    assert [g["amount_sum_1h"] for g in got] == pytest.approx([latest[i] for i in range(5)])


def test_an_empty_range_writes_nothing_and_bad_ranges_are_refused() -> None:
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time")
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    ingest(fset, make_events(n=50))
    assert [(r.written, r.total) for r in materialize(fset, start="2030-01-01")] == [(0, 0)]
    with pytest.raises(FeatureStoreError, match="start < end"):
        materialize(fset, start="2024-03-02", end="2024-03-01")
    with pytest.raises(FeatureStoreError, match="'end'"):
        materialize(fset, end="not a time")
