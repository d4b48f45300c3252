"""Step 7: the alert's retraining run, and the new model version served.

The monitoring job's :class:`RetrainTrigger` starts the training code as a
tracked run when a drift episode begins. The labels of the recent (shifted)
transactions have arrived by then, so the run trains on them; it registers
model version ``v2``, which the running server then loads (step 7 in demo.py).
"""

from __future__ import annotations

from pathlib import Path

import servegraph as sg
from servegraph.monitoring.job import JobReport
from servegraph.monitoring.retrain import FunctionRetrainer, RetrainTrigger

from . import check
from .training import TRAIN_CODE, TrainedModel, load_model, training_params

NEW_VERSION = "v2"


def retrain_trigger(project: str, vector_uri: str, labelled: Path) -> RetrainTrigger:
    """Retrain with the training code on the newly labelled transactions."""
    return RetrainTrigger(
        FunctionRetrainer(
            filename=str(TRAIN_CODE),
            handler="train",
            name="retrain",
            kind="local",
            project=project,
            params=training_params(vector_uri, NEW_VERSION),
            dataset=str(labelled),
        )
    )


def retrained_model(project: str, report: JobReport) -> TrainedModel:
    """The model version the alert's retraining run registered (checked end to end)."""
    check(
        len(report.retrain_runs) == 1,
        f"expected one retraining run from the alert, got {report.retrain_runs} "
        f"(job errors: {report.errors or 'none'})",
    )
    uid = report.retrain_runs[0]
    run = sg.get_run_db().read_run(uid, project)
    state = run["status"]["state"]
    check(state == "completed", f"retraining run {uid} ended {state}: {run['status'].get('error')}")
    model = load_model(project, NEW_VERSION)
    check(model.run_uid == uid, f"model {NEW_VERSION} was not logged by run {uid}")
    return model
