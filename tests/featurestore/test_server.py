"""The HTTP feature server on aiohttp's test client, with the SQLite default and real Redis."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from aiohttp.test_utils import TestClient, TestServer

from servegraph.featurestore import (
    FeatureSet,
    FeatureVector,
    ParquetTarget,
    RedisTarget,
    SQLiteTarget,
    get_online_feature_service,
    ingest,
)
from servegraph.featurestore.server import make_app

ORDERS = pd.DataFrame(
    {
        "customer_id": [1, 1, 2],
        "time": pd.to_datetime(["2024-05-01 10:00", "2024-05-01 10:20", "2024-05-01 10:05"]),
        "amount": [10.0, 30.0, 100.0],
    }
)


def _setup(online: SQLiteTarget | RedisTarget) -> None:
    fset = FeatureSet("orders", entities=["customer_id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum"], ["1h"], period="10m")
    ingest(fset, ORDERS, targets=[ParquetTarget(), online])
    FeatureVector("spend", ["orders.amount_sum_1h", "orders.amount"]).save()


@pytest.fixture(params=["sqlite", "redis"])
def online(request: pytest.FixtureRequest) -> SQLiteTarget | RedisTarget:
    if request.param == "redis":
        target: SQLiteTarget | RedisTarget = request.getfixturevalue("redis_target")
        return target
    return SQLiteTarget()


async def _client(policy: dict[str, Any] | None = None) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(make_app(policy)))
    await client.start_server()
    return client


async def test_online_features_equal_the_python_service(
    online: SQLiteTarget | RedisTarget,
) -> None:
    _setup(online)
    client = await _client()
    try:
        body = {"vector": "spend", "entities": [{"customer_id": 1}, {"customer_id": 9}]}
        resp = await client.post("/v1/features/online", json=body)
        assert resp.status == 200
        data = await resp.json()
        svc = get_online_feature_service("spend")
        try:
            expected = svc.get([{"customer_id": 1}, {"customer_id": 9}])
        finally:
            svc.close()
        assert data == {
            "vector": "spend",
            "columns": ["amount_sum_1h", "amount"],
            "results": expected,
        }
        assert expected[0] == {"amount_sum_1h": 40.0, "amount": 30.0}

        resp = await client.post(
            "/v1/features/online",
            json={**body, "impute_policy": {"*": "$max"}, "as_list": True},
        )
        assert (await resp.json())["results"] == [[40.0, 30.0], [100.0, 100.0]]
    finally:
        await client.close()


async def test_the_server_default_impute_policy_and_the_vector_list() -> None:
    _setup(SQLiteTarget())
    client = await _client({"*": 0})
    try:
        resp = await client.post("/v1/features/online", json={"vector": "spend", "entities": [7]})
        assert (await resp.json())["results"] == [{"amount_sum_1h": 0, "amount": 0}]
        resp = await client.get("/v1/feature-vectors")
        vectors = (await resp.json())["feature_vectors"]
        assert [(v["name"], v["uri"]) for v in vectors] == [
            ("spend", "store://feature-vectors/default/spend:latest")
        ]
        doc = await (await client.get("/openapi.json")).json()
        assert set(doc["paths"]) == {"/v1/features/online", "/v1/feature-vectors", "/openapi.json"}
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        ({"vector": "nope", "entities": [{"customer_id": 1}]}, 404, "nope"),
        ({"vector": "spend", "entities": [{"id": 1}]}, 400, "'customer_id'"),
        ({"entities": [{"customer_id": 1}]}, 400, "'vector'"),
        ({"vector": 3, "entities": [1]}, 400, "'vector'"),
        ({"vector": "spend", "entities": []}, 400, "'entities'"),
        ({"vector": "spend", "entities": {"customer_id": 1}}, 400, "'entities'"),
        ({"vector": "spend", "entities": [{"customer_id": [1]}]}, 400, "strings or numbers"),
        ({"vector": "spend", "entities": [1], "impute_policy": 0}, 400, "'impute_policy'"),
        ({"vector": "spend", "entities": [1], "impute_policy": {"x": 0}}, 400, "x"),
        ([1, 2], 400, "JSON object"),
    ],
)
async def test_bad_requests_get_a_clear_error(body: Any, status: int, match: str) -> None:
    _setup(SQLiteTarget())
    client = await _client()
    try:
        resp = await client.post("/v1/features/online", json=body)
        assert resp.status == status
        error = (await resp.json())["error"]
        assert match in error
    finally:
        await client.close()


async def test_non_json_body_and_unknown_paths() -> None:
    client = await _client()
    try:
        resp = await client.post("/v1/features/online", data=b"{not json")
        assert resp.status == 400
        assert "JSON" in (await resp.json())["error"]
        resp = await client.get("/v1/nothing")
        assert resp.status == 404
        assert "error" in await resp.json()
    finally:
        await client.close()
