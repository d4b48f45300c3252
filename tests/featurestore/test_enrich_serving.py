"""EnrichStep inside a real serving graph (mock server), on both engines."""

from __future__ import annotations

import pandas as pd
import pytest

import servegraph
from servegraph.featurestore import FeatureSet, FeatureVector, ParquetTarget, SQLiteTarget, ingest


def total(event: dict) -> dict:
    event["total"] = event["age"] + event["spend"]
    return event


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_enrich_then_handler_through_the_mock_server(engine: str) -> None:
    fset = FeatureSet("profile", entities=["customer_id"])
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    ingest(fset, pd.DataFrame({"customer_id": [1, 2], "age": [30, 50], "spend": [9.5, None]}))
    FeatureVector("churn", ["profile.age", "profile.spend"]).save()

    fn = servegraph.new_function("enrich-test", kind="serving")
    graph = fn.set_topology("flow", engine=engine)
    graph.to(
        "EnrichStep",
        name="enrich",
        feature_vector="churn",
        key="customer_id",
        impute_policy={"spend": 0.0},
    ).to(name="total", handler="total").respond()
    server = fn.to_mock_server()

    assert server.test("/", body={"customer_id": 1}) == {
        "customer_id": 1,
        "age": 30,
        "spend": 9.5,
        "total": 39.5,
    }
    # a missing feature value is imputed
    assert server.test("/", body={"customer_id": 2})["total"] == 50.0
    # an event without the key fails that request only, naming the step
    response = server.test("/", body={"nokey": 1}, silent=True, get_body=False)
    assert response.status_code == 400
    assert "enrich" in response.body["error"] and "customer_id" in response.body["error"]
    assert server.test("/", body={"customer_id": 1})["total"] == 39.5
    server.wait_for_completion()
