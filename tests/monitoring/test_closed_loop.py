"""The whole loop against a running ``servegraph serve``: predictions, labels, drift,
retraining, and the retrained model loaded by the SAME server, without a restart."""

from __future__ import annotations

import asyncio
import json
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import servegraph as sg
from servegraph.cli import main
from servegraph.functions.context import build_context
from servegraph.monitoring.job import JobReport, MonitoringJob
from servegraph.monitoring.labels import label_records, labels_stream_url
from servegraph.monitoring.retrain import FunctionRetrainer, RetrainTrigger
from servegraph.monitoring.rollout import RolloutPolicy, list_rollouts
from servegraph.monitoring.tracking import default_stream_url
from servegraph.streams import get_stream
from tests.serve_process import serve_process

APP = textwrap.dedent(
    """
    import servegraph
    from servegraph.serving.v2_serving import V2ModelServer


    class Weights(V2ModelServer):
        def load(self):
            path, _ = self.get_model(".txt")
            self.factor = float(open(path).read())

        def predict(self, request):
            return [int(row[0] * self.factor > 0) for row in request["inputs"]]


    fn = servegraph.new_function("fraud-serving", kind="serving", project="shop")
    fn.set_topology("router")
    fn.add_model("fraud:v1", class_name=Weights, model_path="store://models/shop/weights:v1")
    fn.set_tracking()
    """
)
TRAIN = textwrap.dedent(
    """
    def train(context, dataset, endpoint_id=""):
        df = dataset.as_df()
        context.log_result("labelled", int(df["label"].notna().sum()))
        context.log_model("weights", body=b"-1.0", model_file="w.txt", metrics={"auc": AUC},
                          tag="v2")
    """
)


def _post(url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


async def _job_until(job: MonitoringJob, records: int) -> JobReport:
    """Run the job until it has read ``records`` records (the tracker flushes in batches)."""
    total, deadline = 0, time.monotonic() + 60
    while True:
        report = await job.run()
        total += report.records
        if total >= records:
            return report
        assert time.monotonic() < deadline, f"only {total} tracking records arrived"
        await asyncio.sleep(0.3)


@pytest.mark.parametrize(
    ("auc", "promote", "loaded"), [(0.9, "auto", True), (0.4, "auto", False), (0.9, "canary", True)]
)
def test_retrained_model_reaches_the_running_server(
    tmp_path: Path, auc: float, promote: str, loaded: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = build_context("train", {"metadata": {"project": "shop"}})
    reference = pd.DataFrame({"a": [1.0, 5.0, 20.0], "b": [0.0] * 3, "c": [0.0] * 3})
    ctx.log_model("weights", body=b"1.0", model_file="w.txt", tag="v1", training_set=reference)
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "train.py").write_text(TRAIN.replace("AUC", str(auc)))
    with serve_process(tmp_path / "app.py", tmp_path) as base:
        url = f"{base}/v2/models/fraud/infer"
        answers = [
            _post(url, {"inputs": [[float(i + 1), 0.0, 0.0]]}, {"x-request-id": f"req-{i}"})
            for i in range(20)
        ]
        assert {a["model_version"] for a in answers} == {"v1"}
        assert [a["outputs"] for a in answers] == [[1]] * 20
        asyncio.run(_job_until(MonitoringJob(plots=False), 20))
        # ground truth comes later, by request id: the model was wrong on half of them
        truth = {f"req-{i}": i % 2 for i in range(20)}

        async def send_labels() -> None:
            stream = get_stream(labels_stream_url(default_stream_url()))
            await stream.push(label_records(truth))
            await stream.close()

        asyncio.run(send_labels())
        policy = RolloutPolicy(
            promote=promote, min_metric={"auc": 0.8}, canary_weight=50, min_requests=5,
            latency_tolerance=1e6,  # the canary is judged on errors only: no timing in tests
        )  # fmt: skip
        retrainer = FunctionRetrainer(filename=str(tmp_path / "train.py"), project="shop")
        trigger = RetrainTrigger(retrainer, level="no_drift", policy=policy)
        report = asyncio.run(MonitoringJob(plots=False, retrain=trigger).run())
        assert report.labels == 20
        assert report.windows[0].performance["accuracy"] == pytest.approx(0.5)
        (run_id,) = report.retrain_runs
        run = sg.get_run_db().find_run(run_id)
        assert run["status"]["results"]["labelled"] == 20  # the retrain data had the labels
        actions = [s["action"] for s in report.rollouts]
        if promote == "canary":  # the server promotes the canary after 5 good requests
            assert actions == ["registered", "loaded"]
            seen = [_post(url, {"inputs": [[3.0, 0.0, 0.0]]})["model_version"] for _ in range(60)]
            # the split is random: the canary may take the first five and be promoted before
            # v1 answers once (1 in 32); the split itself is tested in test_repository.py
            assert "v2" in seen and set(seen) <= {"v1", "v2"}
            assert seen[-1] == "v2"  # promoted long before the 60th request
            with urllib.request.urlopen(f"{base}/v2/repository/history") as resp:
                history = json.loads(resp.read())
            assert history[-1]["action"] == "promoted", history
            assert history[-1]["version"] == "v2"
        after = _post(url, {"inputs": [[3.0, 0.0, 0.0]]})
    if promote == "canary":
        assert after["model_version"] == "v2" and after["outputs"] == [0]
        assert [r["action"] for r in list_rollouts("shop")] == actions
        return
    if loaded:
        assert actions == ["registered", "loaded", "promoted"]
        assert after["model_version"] == "v2" and after["outputs"] == [0]  # same server, new model
        production = sg.get_model("store://models/shop/weights:production")
        assert production["metadata"]["tags"] == ["latest", "production", "v2"]
    else:
        assert actions == ["rejected"] and "auc" in report.rollouts[0]["detail"]
        assert after["model_version"] == "v1"
    assert [r["action"] for r in list_rollouts("shop")] == actions
    # every step is visible: in lineage of a prediction, and in `servegraph monitor --show`
    tree = sg.lineage("req-3")
    assert tree["kind"] == "prediction" and tree["details"]["model_version"] == "v1"
    (model,) = tree["children"]
    assert model["kind"] == "model" and model["id"].startswith("store://models/shop/weights")
    new = sg.lineage(report.rollouts[0]["model_uri"])
    assert [e["action"] for e in new["details"]["events"]] == (
        ["registered", "loaded", "tagged", "promoted"] if loaded else ["rejected"]
    )
    assert new["children"][0]["details"]["state"] == "completed"
    capsys.readouterr()
    assert main(["monitor", "--show", "--project", "shop"]) == 0
    shown = capsys.readouterr().out
    assert actions[-1] in shown and "accuracy=0.500" in shown
