"""A small version of the demo's state, written through the public APIs: a project with
training runs (metrics, a model in two versions, a failed run, a running one, a
hyper-parameter search), a serving function with every kind of step, a model endpoint
with six hourly windows whose last two are shifted on two features, a feature set
and vector, and a schedule. ``build(home)`` needs ``SERVEGRAPH_HOME`` set to ``home``.
"""

from __future__ import annotations

import asyncio
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

import servegraph as sg
import servegraph.featurestore as fstore
from servegraph.functions.registry import list_models, tag_model
from servegraph.monitoring.datastore import WindowStore
from servegraph.monitoring.drift import FittedReference, worst
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.monitoring.labels import index_predictions
from servegraph.monitoring.performance import save_performance
from servegraph.monitoring.results import ResultStore, WindowResult
from servegraph.monitoring.rollout import record_rollout
from servegraph.storage.rundb import get_run_db
from servegraph.streams import get_stream

PROJECT = "fraud"
FEATURES = ["amount", "hour", "age", "balance"]
SHIFTED = ["amount", "hour"]
ENDPOINT = "fraud-ep-v1"
WINDOWS = 6
LIVE_REQUESTS = 120
REQUEST_ID = "req-42"
STEPS = ["start", "enrich", "prep", "router", "v1", "v2", "to-scoring", "decide", "catcher"]

TRAIN_CODE = textwrap.dedent(
    """
    import pandas as pd

    def train(context, lr=0.1, epochs=5):
        for epoch in range(epochs):
            context.log_metric("loss", round(1.0 / (1 + epoch * lr * 10), 4))
            context.log_metric("accuracy", round(0.7 + 0.05 * epoch * lr * 2, 4))
        print(f"trained with lr={lr} for {epochs} epochs")
        data = pd.DataFrame({"amount": [10.0, 20.0, 35.0, 50.0], "hour": [1, 5, 12, 22],
                             "age": [25, 40, 33, 61], "balance": [100.0, 50.0, 900.0, 10.0]})
        context.log_result("auc", round(0.8 + lr / 10, 4))
        context.log_model("fraud-model", body=f"model-{lr}".encode(),
                          metrics={"auc": 0.8 + lr / 10}, training_set=data)

    def broken(context):
        raise ValueError("the training data has no label column")

    def search(context, depth=1, trees=10):
        context.log_result("score", round(1 - abs(depth - 3) * 0.1 - 1 / trees, 4))
    """
)


@dataclass
class Fixture:
    """Ids the tests look up."""

    home: Path
    train_uid: str
    hyper_uid: str
    running_uid: str
    error_uid: str


def reference_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 20.0, n),
            "hour": rng.integers(6, 22, n).astype(float),
            "age": rng.normal(40, 10, n),
            "balance": rng.normal(500, 120, n),
        }
    )


def _runs(workdir: Path) -> tuple[str, str, str, str]:
    code = workdir / "trainer.py"
    code.write_text(TRAIN_CODE)
    fn = sg.code_to_function("trainer", str(code), kind="local", handler="train", project=PROJECT)
    first = fn.run(params={"lr": 0.1, "epochs": 6}, labels={"team": "fraud", "stage": "dev"})
    second = fn.run(params={"lr": 0.3, "epochs": 8}, labels={"team": "fraud", "stage": "prod"})
    bad = sg.code_to_function("broken", str(code), kind="local", handler="broken", project=PROJECT)
    try:
        failed = bad.run(labels={"team": "risk"})
        error_uid = failed.uid
    except sg.errors.RunFailedError as exc:
        error_uid = exc.run.uid
    searcher = sg.code_to_function(
        "search", str(code), kind="local", handler="search", project=PROJECT
    )
    hyper = searcher.run(hyperparams={"depth": [1, 3, 5], "trees": [10, 50]}, selector="max.score")
    db = get_run_db()
    running = {
        "metadata": {"name": "long-training", "uid": "running0001", "project": PROJECT,
                     "iteration": 0, "labels": {"team": "fraud"}},
        "spec": {"parameters": {"epochs": 100}, "handler": "train", "runtime": {"kind": "job"}},
        "status": {"state": "running", "start_time": "2026-01-01 06:30:00+00:00",
                   "results": {}, "metrics": {}},
    }  # fmt: skip
    db.store_run(running)
    db.store_log("running0001", PROJECT, b"epoch 1/100\nepoch 2/100\n")
    assert first.state() == "completed" and second.state() == "completed"
    return second.uid, hyper.uid, "running0001", error_uid


def _serving_function(workdir: Path) -> None:
    fn = sg.new_function("fraud-serving", kind="serving", project=PROJECT)
    graph = fn.set_topology("flow", engine="async")
    router = (
        graph.to(name="enrich", handler="enrich")
        .to(name="prep", handler="prep")
        .to("ModelRouter", name="router")
    )
    router.add_route("v1", class_name="SKLearnModelServer", model_path="v1.pkl")
    router.add_route("v2", class_name="SKLearnModelServer", model_path="v2.pkl")
    router.to(">>", "to-scoring", path="file:///tmp/q").to(
        name="decide", handler="decide", function="scoring"
    ).respond()
    graph["prep"].error_handler("catcher", handler="catch")
    fn.add_child_function("scoring", str(workdir / "trainer.py"), image="python:3.11")
    fn.save()


def _endpoint(home: Path) -> None:
    rng = np.random.default_rng(7)
    reference = reference_frame(rng, 4000)
    EndpointRegistry().register(
        ModelEndpoint(
            id=ENDPOINT,
            project=PROJECT,
            function="fraud-serving",
            model_name="fraud",
            model_version="v1",
            model_uri=f"store://models/{PROJECT}/fraud-model",
            feature_names=FEATURES,
        ),
        reference=reference,
    )
    ep = EndpointRegistry().get(ENDPOINT)
    fitted = FittedReference(ep.reference_stats)
    results = ResultStore()
    store = WindowStore(home / "monitoring" / "data")
    start0 = pd.Timestamp("2026-01-01 00:00", tz="UTC")
    for i in range(WINDOWS):
        start = start0 + pd.Timedelta(hours=i)
        rows = reference_frame(rng, 300)
        if i >= WINDOWS - 2:
            rows["amount"] = rows["amount"] * 3 + 60
            rows["hour"] = rng.integers(0, 5, len(rows)).astype(float)
        features = fitted.score(rows)
        logged = rows.assign(
            _offset=[f"{i}-{k}" for k in range(len(rows))],
            _row=0,
            request_id=[f"req-{i}-{k}" for k in range(len(rows))],
            endpoint_id=ENDPOINT,
            model_name="fraud",
            model_version="v1",
            latency_ms=rng.gamma(3.0, 4.0, len(rows)),
            error=[None] * len(rows),
            timestamp=start + pd.Timedelta(minutes=5),
        )
        store.append(ENDPOINT, start, logged)
        if i == WINDOWS - 1:
            index_predictions(logged.assign(request_id=[REQUEST_ID] * len(logged)), start)
        save_performance(
            ENDPOINT,
            start,
            {"accuracy": 0.95 - 0.1 * (i >= WINDOWS - 2), "auc": 0.97 - 0.12 * (i >= WINDOWS - 2)},
            labelled=250,
            model_version="v1",
        )
        latency = logged["latency_ms"]
        results.save(
            WindowResult(
                endpoint_id=ENDPOINT,
                window_start=start,
                window_end=start + pd.Timedelta(hours=1),
                requests=len(rows),
                rows=len(rows),
                errors=i % 3,
                latency_p99=float(np.quantile(latency, 0.99)),
                status=worst(f.status for f in features),
                drift_value=max(f.value for f in features),
                features=features,
            )
        )


def tracking_stream(home: Path) -> str:
    """The tracking stream the dashboard follows in the tests."""
    return f"file://{home / 'streams' / 'model-endpoints'}"


async def _push_live(home: Path) -> None:
    """Requests of the last minutes on the tracking stream (every 10th failed)."""
    stream = get_stream(tracking_stream(home))
    now = datetime.now(UTC)
    await stream.push(
        [
            {
                "endpoint_id": ENDPOINT,
                "timestamp": (now - timedelta(seconds=i)).isoformat(),
                "latency_ms": 5.0 + i % 20,
                "error": "bad input" if i % 10 == 0 else None,
                "inputs": [[20.0, 12.0, 40.0, 500.0]],
                "outputs": [0],
            }
            for i in range(LIVE_REQUESTS)
        ]
    )
    await stream.close()


def _history(retrain_uid: str) -> None:
    """The model's history: a version promoted to production, a retraining rollout."""
    older = list_models(PROJECT, "fraud-model")[-1]
    tag_model(older["uri"], "production", by="ops", reason="best holdout AUC")
    record_rollout(
        "registered",
        project=PROJECT,
        endpoint_id=ENDPOINT,
        run_id=retrain_uid,
        model_uri=f"store://models/{PROJECT}/fraud-model:latest",
        detail="retrained on the drifted window",
    )


def _feature_store() -> None:
    times = pd.date_range("2026-01-01", periods=8, freq="15min")
    orders = pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 2, 1, 2, 1, 2],
            "amount": [10.0, 30.0, 5.0, 80.0, 12.0, 7.0, 40.0, 3.0],
            "time": times,
        }
    )
    fset = fstore.FeatureSet(
        "transactions", entities=["customer_id"], timestamp_key="time", project=PROJECT
    )
    fset.add_aggregation("amount", ["sum", "count"], ["1h"], period="15m")
    fstore.ingest(fset, orders)
    fstore.FeatureVector(
        "fraud-vec", ["transactions.amount_sum_1h", "transactions.amount"], project=PROJECT
    ).save()


def build(home: Path) -> Fixture:
    """Write the whole fixture under ``home`` (``SERVEGRAPH_HOME`` must point there)."""
    workdir = home / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    train_uid, hyper_uid, running_uid, error_uid = _runs(workdir)
    _serving_function(workdir)
    _endpoint(home)
    _history(train_uid)
    asyncio.run(_push_live(home))
    _feature_store()
    project = sg.new_project(PROJECT, context=str(workdir), description="card fraud demo")
    project.set_function(str(workdir / "trainer.py"), name="trainer", kind="local", handler="train")
    project.set_schedule("nightly-train", "0 2 * * *", function="trainer", params={"lr": 0.2})
    project.save()
    get_run_db().store_schedule(
        PROJECT, "drift-check", "*/10 * * * *", "monitoring", {"endpoint": ENDPOINT}
    )
    return Fixture(home, train_uid, hyper_uid, running_uid, error_uid)
