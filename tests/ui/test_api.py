"""The dashboard's JSON API on the fixture data, through aiohttp's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from servegraph.config import Config
from servegraph.ui import make_app
from tests.ui import data


@pytest.fixture
async def client(ui_app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(ui_app)) as c:
        yield c


async def get(client: TestClient[Any, Any], path: str, status: int = 200) -> Any:
    resp = await client.get(path)
    body = await resp.json()
    assert resp.status == status, body
    return body


async def test_projects_count_runs_by_state(client: TestClient[Any, Any]) -> None:
    (project,) = await get(client, "/api/projects")
    assert project["name"] == data.PROJECT and project["description"] == "card fraud demo"
    assert project["states"] == {"completed": 3, "error": 1, "running": 1}


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", {"trainer", "broken", "search", "long-training"}),
        ("state=error", {"broken"}),
        ("name=train", {"trainer", "long-training"}),
        ("label=stage=prod", {"trainer"}),
        ("label=team=fraud&state=running", {"long-training"}),
        ("project=elsewhere", set()),
    ],
)
async def test_run_filters(client: TestClient[Any, Any], query: str, names: set[str]) -> None:
    page = await get(client, f"/api/runs?{query}")
    assert {r["name"] for r in page["runs"]} == names
    assert page["total"] == len(page["runs"])


async def test_runs_are_paginated(client: TestClient[Any, Any]) -> None:
    first = await get(client, "/api/runs?limit=2")
    second = await get(client, "/api/runs?limit=2&offset=2")
    assert first["total"] == second["total"] == 5
    assert len(first["runs"]) == len(second["runs"]) == 2
    assert not {r["uid"] for r in first["runs"]} & {r["uid"] for r in second["runs"]}


@pytest.mark.parametrize(
    ("path", "status", "word"),
    [
        ("/api/runs?limit=x", 400, "'limit'"),
        ("/api/runs?limit=100000", 400, "'limit'"),
        ("/api/runs?label=nokey", 400, "key=value"),
        ("/api/runs/fraud/nope", 404, "'nope'"),
        ("/api/artifacts/fraud/nope", 404, "'nope'"),
        ("/api/functions/fraud/nope", 404, "'nope'"),
        ("/api/endpoints/nope", 404, "'nope'"),
        ("/api/feature-sets/fraud/nope", 404, "nope"),
        ("/api/nothing", 404, "Not Found"),
    ],
)
async def test_errors_are_json(
    client: TestClient[Any, Any], path: str, status: int, word: str
) -> None:
    body = await get(client, path, status)
    assert word in body["error"]


async def test_run_page_data(client: TestClient[Any, Any], fx: data.Fixture) -> None:
    run = await get(client, f"/api/runs/{data.PROJECT}/{fx.train_uid}")
    assert run["run"]["spec"]["parameters"] == {"lr": 0.3, "epochs": 8}
    assert run["run"]["status"]["metrics"]["loss"]["yvalues"][0] == 1.0
    assert len(run["run"]["status"]["metrics"]["loss"]["yvalues"]) == 8
    log = await get(client, f"/api/runs/{data.PROJECT}/{fx.train_uid}/log")
    assert "trained with lr=0.3 for 8 epochs" in log["text"] and log["final"]


async def test_hyper_run_children_and_best(client: TestClient[Any, Any], fx: data.Fixture) -> None:
    run = await get(client, f"/api/runs/{data.PROJECT}/{fx.hyper_uid}")
    assert len(run["children"]) == 6
    best = run["best_iteration"]
    scores = {c["iteration"]: c["results"]["score"] for c in run["children"]}
    assert scores[best] == max(scores.values())
    child = await get(client, f"/api/runs/{data.PROJECT}/{fx.hyper_uid}?iter=2")
    assert child["parent"]["uid"] == fx.hyper_uid and child["best_iteration"] == best


async def test_log_tail_from_offset(client: TestClient[Any, Any], fx: data.Fixture) -> None:
    path = f"/api/runs/{data.PROJECT}/{fx.running_uid}/log"
    whole = await get(client, path)
    assert whole["text"].startswith("epoch 1/100\nepoch 2/100\n") and not whole["final"]
    rest = await get(client, f"{path}?offset={whole['offset']}")
    assert rest["text"] == "" and rest["offset"] == whole["offset"]


async def test_function_graph_draws_every_step(client: TestClient[Any, Any]) -> None:
    fn = await get(client, f"/api/functions/{data.PROJECT}/fraud-serving")
    assert sorted(fn["graph"]["steps"]) == sorted(data.STEPS)
    for step in data.STEPS:
        assert f'data-step="{step}"' in fn["graph"]["svg"]
    assert "fn: scoring" in fn["graph"]["svg"]
    rows = {d["name"]: d for d in fn["graph"]["details"]}
    assert rows["decide"]["function"] == "scoring" and rows["to-scoring"]["kind"] == "queue"
    assert rows["router.v2"]["class_name"] == "SKLearnModelServer"
    assert rows["prep"]["on_error"] == "catcher"


async def test_model_versions_and_lineage(client: TestClient[Any, Any], fx: data.Fixture) -> None:
    model = await get(client, f"/api/artifacts/{data.PROJECT}/fraud-model")
    assert len(model["versions"]) == 2
    assert model["versions"][0]["tags"] == ["latest"]
    assert model["versions"][0]["metrics"]["auc"] == pytest.approx(0.83)
    kinds = {n["kind"]: n["ref"] for n in model["lineage"]["nodes"]}
    assert kinds["run"] == f"{data.PROJECT}/{fx.train_uid}"
    assert kinds["endpoint"] == data.ENDPOINT
    models = await get(client, f"/api/artifacts?project={data.PROJECT}&kind=model")
    assert {a["key"] for a in models["artifacts"]} == {"fraud-model"}


async def test_endpoint_drift_over_time(client: TestClient[Any, Any]) -> None:
    ep = await get(client, f"/api/endpoints/{data.ENDPOINT}")
    assert ep["thresholds"] == {"metric": "hellinger", "possible": 0.15, "detected": 0.3}
    assert len(ep["windows"]) == data.WINDOWS
    assert ep["windows"][0]["rate_per_min"] == pytest.approx(300 / 60)
    assert ep["windows"][-1]["latency_p50"] < ep["windows"][-1]["latency_p99"]
    detected = ep["thresholds"]["detected"]
    for feature, points in ep["drift"].items():
        shifted = feature in data.SHIFTED
        assert [p["value"] > detected for p in points] == [False] * 4 + [shifted] * 2, feature
    assert len(ep["model_versions"]) == 2 and "latest" in ep["model_versions"][0]["tags"]
    perf = ep["performance"]
    assert (
        len(perf) == data.WINDOWS
        and perf[-1]["metrics"]["accuracy"] < perf[0]["metrics"]["accuracy"]
    )
    assert [r["action"] for r in ep["rollouts"]] == ["registered"]
    assert any(e.get("tag") == "production" for e in ep["model_events"])
    (listed,) = await get(client, "/api/endpoints")
    assert listed["last_window"]["status"] == "drift_detected" and listed["detected"] == 0.3
    assert listed["drift_trend"] == [w["drift_value"] for w in ep["windows"]]


async def test_histograms_reference_vs_current(client: TestClient[Any, Any]) -> None:
    hist = await get(client, f"/api/endpoints/{data.ENDPOINT}/histograms")
    assert hist["has_data"] and hist["window_start"].startswith("2026-01-01T05:00")
    by_name = {f["feature"]: f for f in hist["features"]}
    assert set(by_name) == set(data.FEATURES)
    for f in by_name.values():
        assert len(f["bins"]) == len(f["reference"]) == len(f["current"])
        assert sum(f["reference"]) == pytest.approx(1) and f["current_count"] == 300


async def test_feature_store_and_schedules(client: TestClient[Any, Any]) -> None:
    store = await get(client, f"/api/feature-store?project={data.PROJECT}")
    (fset,) = store["feature_sets"]
    assert fset["entities"][0]["name"] == "customer_id" and fset["aggregations"]
    assert store["feature_vectors"][0]["name"] == "fraud-vec"
    full = await get(client, f"/api/feature-sets/{data.PROJECT}/transactions")
    assert full["stats"]["amount"]["count"] == 8
    schedules = {s["name"]: s for s in await get(client, "/api/schedules")}
    nightly = schedules["nightly-train"]
    assert nightly["cron"] == "0 2 * * *" and nightly["next_run"].endswith("T02:00:00+00:00")
    assert schedules["drift-check"]["kind"] == "monitoring"


async def test_openapi_describes_every_route(client: TestClient[Any, Any]) -> None:
    doc = await get(client, "/api/openapi.json")
    assert doc["openapi"].startswith("3.")
    for path in (
        "/api/runs",
        "/api/endpoints/{endpoint_id}",
        "/api/models/{project}/{key}/promote",
    ):
        assert path in doc["paths"]
    assert doc["paths"]["/api/runs/{project}/{uid}/stop"]["post"]["security"] == [{"token": []}]


async def test_pages_and_assets_are_served_locally(client: TestClient[Any, Any]) -> None:
    page = await client.get("/")
    html = await page.text()
    assert page.status == 200 and "/static/app.js" in html
    for asset in ("app.js", "charts.js", "style.css"):
        text = await (await client.get(f"/static/{asset}")).text()
        assert "https://" not in text and "http://" not in text.replace("http://www.w3.org", "")


async def test_actions_need_the_token(ui_config: tuple[Config, data.Fixture]) -> None:
    config, _ = ui_config
    async with TestClient(TestServer(make_app(config, token="s3cret"))) as c:
        path = f"/api/models/{data.PROJECT}/fraud-model/promote"
        model = await get(c, f"/api/artifacts/{data.PROJECT}/fraud-model")
        older = model["versions"][1]["hash"]
        denied = await c.post(path, json={"hash": older, "tag": "production"})
        assert denied.status == 401 and "token" in (await denied.json())["error"]
        wrong = await c.post(path, json={"hash": older}, headers={"Authorization": "Bearer no"})
        assert wrong.status == 401
        bad = await c.post(path, json={"tag": "x"}, headers={"Authorization": "Bearer s3cret"})
        assert bad.status == 400
        unknown = await c.post(
            path, json={"hash": "abc", "tag": "x"}, headers={"Authorization": "Bearer s3cret"}
        )
        assert unknown.status == 404 and "fraud-model" in (await unknown.json())["error"]
        auth = {"Authorization": "Bearer s3cret"}
        slash = await c.post(path, json={"hash": older, "tag": "a/b"}, headers=auth)
        assert slash.status == 400
        ok = await c.post(path, json={"hash": older, "tag": "staging"}, headers=auth)
        assert ok.status == 200 and (await ok.json())["tags"] == ["production", "staging"]
        after = await get(c, f"/api/artifacts/{data.PROJECT}/fraud-model")
        assert {v["hash"]: v["tags"] for v in after["versions"]}[older] == ["production", "staging"]
        (event,) = [e for e in after["events"] if e.get("tag") == "staging"]  # in the history
        assert (event["by"], event["uid"]) == ("dashboard", older)


async def test_stop_a_run_without_a_process(ui_config: tuple[Config, data.Fixture]) -> None:
    config, _ = ui_config
    from servegraph.storage.rundb import get_run_db

    db = get_run_db(config.dbpath)
    db.store_run(
        {
            "metadata": {"name": "stuck", "uid": "stuck0001", "project": "other"},
            "status": {"state": "running"},
        }
    )
    async with TestClient(TestServer(make_app(config))) as c:
        stopped = await c.post("/api/runs/other/stuck0001/stop")
        assert stopped.status == 200 and "marked aborted" in (await stopped.json())["how"]
        again = await c.post("/api/runs/other/stuck0001/stop")
        assert again.status == 400 and "not running" in (await again.json())["error"]
    assert db.read_run("stuck0001", "other")["status"]["state"] == "aborted"
    db.del_run("stuck0001", "other")


async def test_lineage_of_a_model_uri(client: TestClient[Any, Any], fx: data.Fixture) -> None:
    tree = await get(client, f"/api/lineage?id=store://models/{data.PROJECT}/fraud-model")
    assert {n["kind"] for n in tree["nodes"]} >= {"model", "run"}
    assert "<svg" in tree["svg"]
    run = next(n for n in tree["nodes"] if n["kind"] == "run")
    assert fx.train_uid in run["ref"]
    predicted = await get(client, f"/api/lineage?id={data.REQUEST_ID}")
    assert predicted["tree"]["kind"] == "prediction"
    assert [n["kind"] for n in predicted["nodes"]][:3] == ["prediction", "model", "run"]
    unknown = await get(client, "/api/lineage?id=req-nope", 404)
    assert "req-nope" in unknown["error"]
    missing = await get(client, "/api/lineage?id=", 400)
    assert "'id'" in missing["error"]
