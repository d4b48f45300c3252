"""Feature steps: a row at a time (storey, serving) equals the DataFrame computation (pandas)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from servegraph.errors import BadRequestError, GraphError
from servegraph.featurestore import FeatureSet, ingest
from servegraph.featurestore.steps import (
    DateExtractor,
    DropFeatures,
    Imputer,
    MapValues,
    OneHotEncoder,
    SetEventMetadata,
)
from servegraph.graph import RootFlowStep
from servegraph.serving.event import Event
from servegraph.serving.mock import create_mock_server

STEPS = "servegraph.featurestore.steps"


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 200
    amount = rng.normal(50, 30, n).round(2)
    amount[rng.choice(n, 20, replace=False)] = np.nan
    return pd.DataFrame(
        {
            "id": rng.integers(0, 10, n),
            "time": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(np.sort(rng.choice(10**6, n)), "s"),
            "amount": amount,
            "channel": rng.choice(["web", "in shop", "app", "phone-call"], n),
            "age": rng.choice(["U", "20", "30"], n),
        }
    )


def rows_through(step: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """Apply the step row by row (as storey and serving graphs do)."""
    return pd.DataFrame([step.do(dict(row)) for row in frame.to_dict("records")])


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    left, right = left.reset_index(drop=True), right.reset_index(drop=True)
    assert list(left.columns) == list(right.columns)
    for column in left.columns:
        for a, b in zip(left[column], right[column], strict=True):
            assert (pd.isna(a) and pd.isna(b)) or a == b, (column, a, b)


def test_one_hot_encoder_rows_equal_pandas_get_dummies(data: pd.DataFrame) -> None:
    step = OneHotEncoder(mapping={"channel": ["web", "in shop", "app", "web"]})
    frame = step.do(data.copy())
    expected = pd.get_dummies(
        pd.Categorical(data["channel"], categories=["web", "in shop", "app"]),
        prefix="channel",
        dtype="int64",
    ).rename(columns={"channel_in shop": "channel_in_shop"})
    assert list(frame.columns) == ["id", "time", "amount", *expected.columns, "age"]
    assert (frame[expected.columns].to_numpy() == expected.to_numpy()).all()
    assert (frame.loc[data["channel"] == "phone-call", expected.columns] == 0).all().all()
    assert_same(rows_through(step, data), frame)


def test_imputer_rows_equal_pandas_fillna(data: pd.DataFrame) -> None:
    step = Imputer(mapping={"amount": 0.0}, default_value="missing")
    frame = step.do(data.copy())
    assert frame["amount"].equals(data["amount"].fillna(0.0))
    assert_same(rows_through(step, data), frame)


def test_map_values_table_and_ranges_equal_pandas(data: pd.DataFrame) -> None:
    step = MapValues(
        mapping={
            "age": {"U": "0"},
            "amount": {"ranges": {"low": ["-inf", 30], "mid": [30, 60], "high": [60, "inf"]}},
        },
        with_original_features=True,
    )
    frame = step.do(data.copy())
    expected = pd.cut(
        data["amount"], [-math.inf, 30, 60, math.inf], right=False, labels=["low", "mid", "high"]
    ).astype(object)
    got = frame["amount_mapped"].where(data["amount"].notna())
    assert got.dropna().equals(expected.dropna())
    assert frame["age_mapped"].equals(data["age"].replace({"U": "0"}))
    assert_same(rows_through(step, data), frame)


def test_map_values_without_originals_keeps_only_mapped_columns(data: pd.DataFrame) -> None:
    step = MapValues(mapping={"age": {"U": "0"}})
    assert list(step.do(data.copy()).columns) == ["age"]
    assert step.do({"age": "20", "id": 1}) == {"age": "20"}


def test_date_extractor_rows_equal_pandas_dt(data: pd.DataFrame) -> None:
    step = DateExtractor(parts=["hour", "day_of_week", "is_month_start"], timestamp_col="time")
    frame = step.do(data.copy())
    assert frame["time_hour"].equals(data["time"].dt.hour.astype("int64"))
    assert frame["time_day_of_week"].equals(data["time"].dt.day_of_week.astype("int64"))
    assert_same(rows_through(step, data), frame)


def test_drop_features_rows_equal_pandas_drop(data: pd.DataFrame) -> None:
    step = DropFeatures(features=["age", "channel"])
    frame = step.do(data.copy())
    assert frame.equals(data.drop(columns=["age", "channel"]))
    assert_same(rows_through(step, data), frame)


def test_missing_features_and_bad_bodies_are_bad_requests() -> None:
    with pytest.raises(BadRequestError, match="has no feature 'age'"):
        DropFeatures(features=["age"]).do({"id": 1})
    with pytest.raises(BadRequestError, match="has no feature 'timestamp'"):
        DateExtractor(parts=["hour"]).do({"id": 1})
    with pytest.raises(BadRequestError, match="takes a dict of features or a DataFrame"):
        Imputer().do([1, 2])


def test_misuse_raises_at_build_time() -> None:
    with pytest.raises(GraphError, match="list of ints or strings"):
        OneHotEncoder(mapping={"c": [1.5]})
    with pytest.raises(GraphError, match="not pandas Timestamp attributes"):
        DateExtractor(parts=["hours"])
    with pytest.raises(GraphError, match=r"must be \[low, high\]"):
        MapValues(mapping={"n": {"ranges": {"a": [1]}}})
    with pytest.raises(GraphError, match="list of names"):
        DropFeatures(features="age")


def chain(graph: Any) -> None:
    graph.to(f"{STEPS}.Imputer", name="impute", mapping={"amount": 0.0}).to(
        f"{STEPS}.OneHotEncoder", name="onehot", mapping={"channel": ["web", "app", "in shop"]}
    ).to(f"{STEPS}.DateExtractor", name="dates", parts=["hour"], timestamp_col="time").to(
        f"{STEPS}.DropFeatures", name="drop", features=["age"]
    )


def test_storey_and_pandas_ingestion_give_the_same_features(data: pd.DataFrame) -> None:
    outputs = []
    for engine in ("storey", "pandas"):
        fset = FeatureSet(f"steps-{engine}", entities=["id"], timestamp_key="time", engine=engine)
        chain(fset.graph)
        out = ingest(fset, data.copy())
        assert out is not None
        outputs.append(out.sort_values(["time", "id"]).reset_index(drop=True))
    storey_out, pandas_out = outputs
    assert set(storey_out.columns) == set(pandas_out.columns)
    assert {"channel_web", "channel_in_shop", "time_hour"} <= set(pandas_out.columns)
    assert "age" not in pandas_out.columns and "channel" not in pandas_out.columns
    assert_same(storey_out[sorted(storey_out.columns)], pandas_out[sorted(pandas_out.columns)])


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_the_steps_run_in_a_serving_graph(engine: str, data: pd.DataFrame) -> None:
    graph = RootFlowStep(engine=engine)
    chain(graph)
    graph["drop"].respond()
    server = create_mock_server({"graph": graph})
    row = data.iloc[3].to_dict()
    row["time"] = str(row["time"])
    expected = DropFeatures(features=["age"]).do(
        DateExtractor(parts=["hour"], timestamp_col="time").do(
            OneHotEncoder(mapping={"channel": ["web", "app", "in shop"]}).do(
                Imputer(mapping={"amount": 0.0}).do(dict(row))
            )
        )
    )
    assert server.test(body=dict(row)) == expected


def test_set_event_metadata_sets_id_and_key_from_the_body() -> None:
    step = SetEventMetadata(id_path="meta.id", key_path="user")
    event = step.do_event(Event(body={"meta": {"id": 34}, "user": "u7"}))
    assert (event.id, event.key) == ("34", "u7")
    random = SetEventMetadata(random_id=True).do_event(Event(body={}, id="x"))
    assert random.id != "x" and len(random.id) == 32
    with pytest.raises(BadRequestError, match=r"the body has no 'meta\.id'"):
        step.do_event(Event(body={"user": 1}))
    assert step.do({"a": 1}) == {"a": 1}  # a feature-set row passes unchanged


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_set_event_metadata_in_a_serving_graph(engine: str) -> None:
    seen: list[Any] = []

    class Capture:
        def do_event(self, event: Event) -> Event:
            seen.append((event.id, event.key))
            return event

    graph = RootFlowStep(engine=engine)
    graph.to(SetEventMetadata(id_path="myid", key_path="mykey"), name="meta").to(
        Capture(), name="capture"
    ).respond()
    create_mock_server({"graph": graph}).test(body={"myid": "34", "mykey": "123"})
    assert seen == [("34", "123")]


def test_the_steps_have_mlrun_spellings() -> None:
    graph = RootFlowStep(engine="sync")
    graph.to("DateExtractor", name="dates", parts=["hour"], timestamp_col="t").to(
        "mlrun.feature_store.steps.DropFeatures", name="drop", features=["t"]
    ).respond()
    assert create_mock_server({"graph": graph}).test(body={"t": "2026-01-01 05:00"}) == {
        "t_hour": 5
    }
