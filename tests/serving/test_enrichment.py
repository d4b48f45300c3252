"""Enrichment routers: entity keys in, feature rows to the models (SQLite and real Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import redis

import servegraph
from servegraph.featurestore import (
    FeatureSet,
    FeatureVector,
    ParquetTarget,
    RedisTarget,
    SQLiteTarget,
    ingest,
)
from servegraph.serving.enrichment import EnrichmentModelRouter, EnrichmentVotingEnsemble
from servegraph.serving.sync_bridge import run_coroutine
from servegraph.serving.v2_serving import V2ModelServer


class Echo(V2ModelServer):
    """Answers the feature rows it was given, so the test sees what the router looked up."""

    def predict(self, request: dict[str, Any]) -> Any:
        return [list(row) for row in request["inputs"]]


class Sum(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return [
            float(sum(v or 0 for v in row)) * float(self.get_param("scale", 1))
            for row in request["inputs"]
        ]


def make_vector(online: Any, name: str) -> str:
    fset = FeatureSet(f"{name}-profile", entities=["customer_id"])
    fset.set_targets([ParquetTarget(), online])
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "age": [30, 50, 40], "spend": [9.5, None, 1.0]})
    ingest(fset, frame)
    FeatureVector(name, [f"{name}-profile.age", f"{name}-profile.spend"]).save()
    return name


@pytest.fixture(params=["sqlite", "redis"])
def vector(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield make_vector(SQLiteTarget(), "vec-sqlite")
        return
    redis_url = request.getfixturevalue("redis_url")
    target = RedisTarget(redis_url, prefix=f"sgtest:{request.getfixturevalue('unique')}:")
    yield make_vector(target, "vec-redis")
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{target.prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.parametrize("asynchronous", [False, True])
def test_enrichment_model_router_gives_models_the_feature_rows(
    vector: str, asynchronous: bool
) -> None:
    fn = servegraph.new_function("enrich-router", kind="serving")
    fn.set_topology(
        "router",
        EnrichmentModelRouter(feature_vector_uri=vector, impute_policy={"spend": 0.0}),
    )
    # a batching model is an async route: the router then takes its async path
    extra = {"max_batch_size": 4, "max_batch_wait_ms": 1} if asynchronous else {}
    fn.add_model("echo", class_name=Echo, **extra)
    server = fn.to_mock_server()
    out = server.test(
        "/v2/models/echo/infer", body={"inputs": [{"customer_id": 1}, {"customer_id": 2}]}
    )
    assert out["outputs"] == [[30, 9.5], [50, 0.0]]  # the missing spend is imputed
    # bare entity values work for a one-entity vector
    assert server.test("/v2/models/echo/infer", body={"inputs": [3]})["outputs"] == [[40, 1.0]]
    # a row without the entity is a 400 naming it; the server keeps serving
    bad = server.test(
        "/v2/models/echo/infer", body={"inputs": [{"id": 1}]}, silent=True, get_body=False
    )
    assert bad.status_code == 400 and "customer_id" in bad.body["error"]
    assert server.test("/v2/models/echo/infer", body={"inputs": [1]})["outputs"] == [[30, 9.5]]
    assert server.test("/v2/models", method="GET") == {"models": ["echo"]}
    run_coroutine(server.close())


def test_enrichment_voting_ensemble_votes_on_the_feature_rows(vector: str) -> None:
    fn = servegraph.new_function("enrich-ensemble", kind="serving")
    fn.set_topology(
        "router",
        EnrichmentVotingEnsemble(
            feature_vector_uri=vector, vote_type="regression", impute_policy={"*": 0.0}
        ),
    )
    fn.add_model("a", class_name=Sum, scale=1)
    fn.add_model("b", class_name=Sum, scale=3)
    server = fn.to_mock_server()
    out = server.test("/v2/models/VotingEnsemble/infer", body={"inputs": [{"customer_id": 1}, 2]})
    assert out["outputs"] == [pytest.approx(39.5 * 2), pytest.approx(50 * 2)]
    # a member named in the path answers alone, on enriched rows too
    assert server.test("/v2/models/b/infer", body={"inputs": [1]})["outputs"] == [
        pytest.approx(118.5)
    ]
    run_coroutine(server.close())


def test_the_routers_are_reachable_where_mlrun_code_looks() -> None:
    from servegraph.serving import routers

    assert routers.EnrichmentModelRouter is EnrichmentModelRouter
    assert servegraph.serving.EnrichmentVotingEnsemble is EnrichmentVotingEnsemble


def test_a_vector_is_required() -> None:
    with pytest.raises(servegraph.errors.GraphError, match="needs a 'feature_vector_uri'"):
        EnrichmentModelRouter()


def test_the_router_survives_a_round_trip_of_the_function() -> None:
    from servegraph.functions.serving import ServingFunction

    vector = make_vector(SQLiteTarget(), "vec-trip")
    fn = servegraph.new_function("trip", kind="serving")
    fn.set_topology(
        "router", EnrichmentModelRouter(feature_vector_uri=vector, impute_policy={"spend": -1.0})
    )
    fn.add_model("echo", class_name="tests.serving.test_enrichment.Echo")
    again = ServingFunction.from_dict(fn.to_dict())
    assert again.spec.graph.class_args["feature_vector_uri"] == vector
    out = again.to_mock_server().test("/v2/models/echo/infer", body={"inputs": [2]})
    assert out["outputs"] == [[50, -1.0]]
