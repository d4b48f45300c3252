"""Step 3: train the model as a tracked run; read the registered model back.

The handler lives in ``train.py`` (the code a run executes); this module
starts the run and loads the model version it registered in the run
database, with the training-set statistics monitoring needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import servegraph as sg

from . import check
from .data import REQUEST_FEATURES, START
from .features import WINDOWS

TRAIN_CODE = Path(__file__).with_name("train.py")
MODEL_KEY = "fraud"


@dataclass
class TrainedModel:
    """A registered model version, as the run database holds it."""

    version: str
    uri: str
    path: str
    run_uid: str
    features: list[str]
    metrics: dict[str, float]

    def summary(self) -> str:
        """The test metrics the run logged, e.g. ``accuracy 0.991, auc 0.998``."""
        return ", ".join(f"{name} {value:.3f}" for name, value in self.metrics.items())


def load_model(project: str, version: str) -> TrainedModel:
    """The model version ``version`` (an artifact tag) from the run database."""
    record = sg.get_run_db().read_artifact(MODEL_KEY, tag=version, project=project)
    spec = record["spec"]
    check(
        bool(spec.get("feature_stats")),
        f"model {MODEL_KEY}:{version} was logged without training-set statistics",
    )
    return TrainedModel(
        version=version,
        uri=record["uri"],
        path=spec["target_path"],
        run_uid=spec["producer"]["uid"],
        features=[i["name"] for i in spec["inputs"]],
        metrics=spec.get("metrics") or {},
    )


def training_function(project: str) -> Any:
    """The training code as a function (kind ``local``: runs in this process)."""
    return sg.code_to_function(
        "train", filename=str(TRAIN_CODE), kind="local", handler="train", project=project
    )


def training_params(vector_uri: str, version: str) -> dict[str, Any]:
    """The training run's parameters; it skips rows older than one full aggregation window."""
    return {
        "vector": vector_uri,
        "request_features": REQUEST_FEATURES,
        "model_key": MODEL_KEY,
        "model_version": version,
        "since": str(START + pd.Timedelta(WINDOWS[-1])),
    }


def train_model(project: str, dataset: Path, vector_uri: str, version: str) -> TrainedModel:
    """Run the training handler on ``dataset``; return the model version it registered."""
    run = training_function(project).run(
        params=training_params(vector_uri, version),
        inputs={"dataset": str(dataset)},
        raise_on_error=True,
    )
    check(run.state() == "completed", f"training run {run.uid} ended {run.state()}: {run.error}")
    model = load_model(project, version)
    check(model.run_uid == run.uid, f"model {version} was not logged by run {run.uid}")
    return model
