"""Offline retrieval is point-in-time correct: a feature row never comes from the future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servegraph.errors import EntityError, FeatureNotFoundError, FeatureSetNotFoundError
from servegraph.featurestore import FeatureSet, FeatureVector, get_offline_features, ingest

from .conftest import make_events


def _ingest(df: pd.DataFrame, name: str = "tx") -> FeatureSet:
    fset = FeatureSet(name, entities=["id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum"], ["1h"], period="10m")
    ingest(fset, df)
    return fset


def test_point_in_time_join_never_uses_a_later_row() -> None:
    events = make_events(n=500, entities=5, seed=11)
    _ingest(events.assign(seen=events["time"]))
    rng = np.random.default_rng(5)
    probes = pd.DataFrame(
        {
            "id": rng.integers(0, 5, 200),
            "at": pd.Timestamp("2024-02-29 23:00")
            + pd.to_timedelta(rng.integers(0, 14 * 3600, 200), unit="s"),
        }
    )
    out = get_offline_features(FeatureVector("v", ["tx.seen", "tx.amount"]), probes, "at")
    assert list(out["at"]) == list(probes["at"])  # entity rows keep their order
    for row in out.itertuples():
        history = events[(events["id"] == row.id) & (events["time"] <= row.at)]
        if history.empty:
            assert pd.isna(row.seen) and pd.isna(row.amount)
        else:
            assert row.seen <= row.at
            assert row.seen == history["time"].max()
            assert row.amount == history.loc[history["time"].idxmax(), "amount"]


def test_exact_timestamp_match_is_included() -> None:
    events = make_events(n=50, entities=2, seed=1)
    _ingest(events)
    first = events.iloc[[10]][["id", "time"]]
    out = get_offline_features(FeatureVector("v", ["tx.amount"]), first, "time")
    assert out["amount"].iloc[0] == events["amount"].iloc[10]


def test_two_feature_sets_joined_point_in_time() -> None:
    events = make_events(n=300, entities=4, seed=2)
    _ingest(events)
    scores = make_events(n=100, entities=4, seed=9).rename(columns={"amount": "score"})
    score_set = FeatureSet("scores", entities=["id"], timestamp_key="time")
    ingest(score_set, scores[["id", "time", "score"]])
    vec = FeatureVector("v", ["tx.amount_sum_1h", "scores.score"], label_feature="tx.amount")
    out = get_offline_features(vec)  # the first set's rows are the spine
    assert len(out) == len(events)
    assert list(out.columns) == ["id", "time", "amount_sum_1h", "score", "amount"]
    for row in out.sample(40, random_state=0).itertuples():
        past = scores[(scores["id"] == row.id) & (scores["time"] <= row.time)]
        expected = past.loc[past["time"].idxmax(), "score"] if len(past) else np.nan
        assert row.score == pytest.approx(expected, nan_ok=True)


def test_without_timestamp_each_entity_gets_its_latest_row() -> None:
    events = make_events(n=200, entities=3, seed=4)
    _ingest(events)
    out = get_offline_features(FeatureVector("v", ["tx.amount"]), pd.DataFrame({"id": [2, 0]}))
    latest = events.sort_values("time").groupby("id").tail(1).set_index("id")["amount"]
    assert list(out["amount"]) == [latest[2], latest[0]]


def test_time_range_filters_feature_rows() -> None:
    events = make_events(n=200, entities=3, seed=4)
    _ingest(events)
    out = get_offline_features(
        FeatureVector("v", ["tx.amount"]),
        start_time="2024-03-01 02:00",
        end_time="2024-03-01 04:00",
    )
    assert out["time"].min() >= pd.Timestamp("2024-03-01 02:00")
    assert out["time"].max() < pd.Timestamp("2024-03-01 04:00")
    assert len(out) == int(
        ((events["time"] >= "2024-03-01 02:00") & (events["time"] < "2024-03-01 04:00")).sum()
    )


def test_bad_requests_name_the_thing() -> None:
    _ingest(make_events(n=20, entities=2))
    with pytest.raises(FeatureSetNotFoundError, match="'nosuch'"):
        get_offline_features(FeatureVector("v", ["nosuch.amount"]))
    with pytest.raises(FeatureNotFoundError, match="'nope'"):
        get_offline_features(FeatureVector("v", ["tx.nope"]))
    with pytest.raises(EntityError, match="'when'"):
        get_offline_features(FeatureVector("v", ["tx.amount"]), pd.DataFrame({"id": [1]}), "when")
    with pytest.raises(EntityError, match=r"\['id'\]"):
        get_offline_features(FeatureVector("v", ["tx.amount"]), pd.DataFrame({"user": [1]}))
