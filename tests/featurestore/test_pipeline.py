"""The transformation graph (servegraph.graph builder) runs inside the storey ingestion flow."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from servegraph.errors import FeatureStoreError, GraphError
from servegraph.featurestore import FeatureSet, get_feature_set, ingest


class AddTax:
    """A step class with class args, like a user's transform."""

    def __init__(self, rate: float, context: Any = None, name: str | None = None) -> None:
        self.rate = rate
        self.name = name

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        body["taxed"] = body["amount"] * (1 + self.rate)
        return body


class Flag:
    async def mark(self, body: dict[str, Any]) -> dict[str, Any]:
        body["big"] = body["taxed"] > 60
        return body


def add_hour(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(hour=df["time"].dt.hour)


def test_graph_steps_run_before_aggregations(events: pd.DataFrame) -> None:
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time")
    fset.graph.to("tests.featurestore.test_pipeline.AddTax", name="tax", rate=0.5).to(
        Flag(), name="flag", handler="mark"
    ).to(name="cents", handler="(dict(event, cents=round(event['amount'] * 100)))")
    fset.add_aggregation("taxed", ["max"], ["2h"], period="10m")
    out = ingest(fset, events)
    assert out is not None
    assert out["taxed"].to_numpy() == pytest.approx(events["amount"].to_numpy() * 1.5)
    assert (out["big"] == (out["taxed"] > 60)).all()
    assert (out["cents"] == (events["amount"] * 100).round()).all()
    assert (out["taxed_max_2h"] >= out["taxed"]).all()
    # the graph is saved with the feature set and rebuilt from the catalog
    loaded = get_feature_set("tx")
    assert list(loaded.graph.steps) == ["tax", "flag", "cents"]
    assert loaded.graph.steps["tax"].class_args == {"rate": 0.5}
    again = ingest("tx", events.iloc[:50], namespace={"Flag": Flag})
    assert again is not None and "taxed" in again.columns


def test_pandas_engine_steps_get_the_dataframe(events: pd.DataFrame) -> None:
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time", engine="pandas")
    fset.graph.to(name="hour", handler=add_hour)
    fset.add_aggregation("hour", ["max"], ["1h"], period="10m")
    out = ingest(fset, events)
    assert out is not None
    assert list(out["hour"]) == list(events["time"].dt.hour)


def test_branching_graph_is_refused(events: pd.DataFrame) -> None:
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time")
    fset.graph.to(name="a", handler="(event)")
    fset.graph.add_step(name="b", handler="(event)", after="a")
    fset.graph.add_step(name="c", handler="(event)", after="a")
    with pytest.raises(FeatureStoreError, match="linear chain"):
        ingest(fset, events)


def test_unresolvable_step_names_it(events: pd.DataFrame) -> None:
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time")
    fset.graph.to("no.such.Module", name="bad")
    with pytest.raises(GraphError, match=r"no\.such"):
        ingest(fset, events)
