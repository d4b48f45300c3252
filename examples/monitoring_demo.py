"""servegraph monitoring demo: train -> serve with tracking -> drift -> alert -> retrain.

1. a training run logs an iris model with its training set (reference statistics);
2. a serving function with tracking answers normal traffic, then traffic whose
   petal measurements drifted (a later time window);
3. the model endpoint is registered from the model's ``feature_stats``;
4. the monitoring job measures drift per window, fires a drift alert (to a
   file) once, and starts a retraining run on the drifted window's data;
5. the results table is printed as ``servegraph monitor --show`` does.

    python examples/monitoring_demo.py [--stream redis://127.0.0.1:6379/demo-endpoints]

Exits non-zero if drift is not found exactly where it was introduced.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_iris

import servegraph as sg
from servegraph.serving import V2ModelServer

TRAIN_CODE = """
import pickle
from sklearn.linear_model import LogisticRegression

def train(context, dataset, label_column="label"):
    df = dataset.as_df()
    features = [c for c in df.columns if c not in (label_column, "output", "timestamp")]
    labels = df[label_column] if label_column in df else df["output"]
    model = LogisticRegression(max_iter=500).fit(df[features], labels)
    context.log_result("rows", len(df))
    context.log_model("iris-model", body=pickle.dumps(model), model_file="model.pkl",
                      training_set=df[features + [label_column]] if label_column in df else
                      df[features].assign(label=labels), label_column="label")
"""


class IrisModel(V2ModelServer):
    def load(self) -> None:
        x, y = load_iris(return_X_y=True)
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(max_iter=500).fit(x, y)

    def predict(self, request: dict[str, Any]) -> Any:
        return self.model.predict(np.asarray(request["inputs"])).tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream", default=None, help="tracking stream URL (default: file log)")
    parser.add_argument("--home", default=None, help="SERVEGRAPH_HOME (default: a temp dir)")
    args = parser.parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="sg-monitoring-demo-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["SERVEGRAPH_HOME"] = str(home)
    from servegraph.monitoring.alerts import AlertEngine, AlertRule
    from servegraph.monitoring.alerts.notifiers import FileNotifier
    from servegraph.monitoring.commands import show
    from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
    from servegraph.monitoring.job import MonitoringJob
    from servegraph.monitoring.retrain import FunctionRetrainer, RetrainTrigger
    from servegraph.monitoring.tracking import default_stream_url

    stream = args.stream or default_stream_url()
    iris = load_iris(as_frame=True).frame.rename(columns={"target": "label"})
    iris.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "label"]
    data = home / "iris.csv"
    iris.to_csv(data, index=False)
    code = home / "train.py"
    code.write_text(TRAIN_CODE)

    # 1. train: the model artifact carries the training set's statistics
    trainer = sg.code_to_function("trainer", str(code), kind="local", handler="train",
                                  project="demo")  # fmt: skip
    run = trainer.run(inputs={"dataset": str(data)})
    print(f"training run {run.uid}: {run.state()}")

    # 2. serve with tracking: normal traffic, then drifted traffic in a later window
    fn = sg.new_function("iris-serving", kind="serving", project="demo")
    fn.set_topology("router")
    fn.add_model("iris", class_name=IrisModel)
    fn.set_tracking(stream_path=stream, batch=50)
    server = fn.to_mock_server(track_models=True)
    rng = np.random.default_rng(0)
    features = iris.drop(columns="label").to_numpy()

    def traffic(n: int, petal_shift: float) -> None:
        for _ in range(n):
            rows = features[rng.integers(0, len(features), 4)].copy()
            rows[:, 2:] += petal_shift
            server.test("/v2/models/iris/infer", body={"inputs": rows.tolist()})

    traffic(150, 0.0)
    time.sleep(2.1)  # the next requests fall in the next 2-second window
    traffic(150, 2.0)
    server.wait_for_completion()

    # 3. register the endpoint from the model (reference = its feature_stats)
    first = MonitoringJob(stream_path=stream, window="2s", plots=False)
    endpoint_id = _first_endpoint_id(stream)
    EndpointRegistry().register(
        ModelEndpoint(id=endpoint_id, project="demo", function="iris-serving",
                      model_name="iris", model_uri="store://models/demo/iris-model")
    )  # fmt: skip

    # 4. monitor: drift per window, one alert per episode, one retraining run
    alerts_file = home / "alerts.jsonl"
    first.alerts = AlertEngine([AlertRule(name="drift", kind="drift")],
                               {"file": FileNotifier(path=alerts_file)})  # fmt: skip
    first.retrain = RetrainTrigger(
        FunctionRetrainer(filename=str(code), handler="train", kind="local",
                          params={"label_column": "label"})
    )  # fmt: skip
    report = first.run_sync()
    statuses = [w.status.value for w in report.windows]
    print(f"windows: {statuses}")
    for window in report.windows:
        drifted = [f.feature for f in window.features if f.status.value != "no_drift"]
        print(f"  {window.window_start}: {window.status.value}, drifted features {drifted}")
    print(f"alerts: {alerts_file.read_text().strip() if alerts_file.exists() else 'none'}")
    print(f"retraining runs: {report.retrain_runs}")
    show(endpoint_id)

    expected_drift = {"petal_length", "petal_width"}
    last = report.windows[-1] if report.windows else None
    ok = (
        statuses[:1] == ["no_drift"]
        and statuses[-1:] == ["drift_detected"]
        and last is not None
        and {f.feature for f in last.features if f.status.value == "drift_detected"}
        == expected_drift
        and len(report.alerts) == 1
        and len(report.retrain_runs) == 1
    )
    print("monitoring demo OK" if ok else "monitoring demo FAILED")
    return 0 if ok else 1


def _first_endpoint_id(url: str) -> str:
    import asyncio

    from servegraph.streams import get_stream

    async def first() -> str:
        stream = get_stream(url)
        try:
            (record,) = await stream.read("demo-peek", "c", count=1)
            return str(record.data["endpoint_id"])
        finally:
            await stream.close()

    return asyncio.run(first())


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # the demo reports any failure as a non-zero exit
        print(f"monitoring demo FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
