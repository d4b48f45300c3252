"""The retraining trigger: drift detected on an endpoint starts its training function.

:class:`RetrainTrigger` watches window results; on the first window of a drift
episode (see :mod:`.alerts.state`) it writes that window's logged data to
Parquet and asks a :class:`Retrainer` to start a tracked run with it as input.
:class:`FunctionRetrainer`, the default, resolves
``servegraph.functions.factory.code_to_function`` at call time (monitoring
never imports the runs machinery at import time) and calls ``fn.run(params=...,
inputs={input_key: dataset})``.

>>> trigger = RetrainTrigger(FunctionRetrainer(filename="train.py", handler="train"))
>>> trigger.retrainer.input_key
'dataset'
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import pandas as pd

from servegraph.config import get_config
from servegraph.errors import MonitoringError, ServegraphError
from servegraph.monitoring.alerts.state import EpisodeState
from servegraph.monitoring.datastore import window_key
from servegraph.monitoring.drift import DriftStatus
from servegraph.monitoring.endpoints import ModelEndpoint
from servegraph.monitoring.records import META_COLUMNS
from servegraph.monitoring.results import WindowResult
from servegraph.monitoring.rollout import RolloutPolicy

FACTORY = "servegraph.functions.factory"


class Retrainer(Protocol):
    """Starts a training run for an endpoint; returns the run's id."""

    def retrain(self, endpoint: ModelEndpoint, dataset: str, reason: WindowResult) -> str: ...


def _run_id(run: Any) -> str:
    """The uid of a run object, whatever shape the runs layer gives it."""
    for path in (("metadata", "uid"), ("uid",)):
        value = run
        for attr in path:
            value = value.get(attr) if isinstance(value, dict) else getattr(value, attr, None)
        if value:
            return str(value)
    return str(run)


class FunctionRetrainer:
    """Run the project's training code as a tracked run.

    Parameters: ``filename`` (the training code), ``handler``, ``name`` of the
    function, ``kind`` (``job``), ``project``, ``params`` passed to the run,
    ``input_key`` (the run input that receives the data, ``dataset``), and
    ``dataset``: a fixed dataset URL to train on instead of the logged window.
    """

    def __init__(
        self,
        *,
        filename: str,
        handler: str = "train",
        name: str = "retrain",
        kind: str = "job",
        project: str = "",
        params: dict[str, Any] | None = None,
        input_key: str = "dataset",
        dataset: str | None = None,
    ) -> None:
        self.filename = filename
        self.handler = handler
        self.name = name
        self.kind = kind
        self.project = project
        self.params = params or {}
        self.input_key = input_key
        self.dataset = dataset

    def retrain(self, endpoint: ModelEndpoint, dataset: str, reason: WindowResult) -> str:
        try:
            factory = importlib.import_module(FACTORY)
            code_to_function = factory.code_to_function
        except (ImportError, AttributeError) as exc:
            raise MonitoringError(
                f"retraining needs {FACTORY}.code_to_function, which is not available: {exc}"
            ) from exc
        fn = code_to_function(
            self.name,
            project=self.project or endpoint.project,
            filename=self.filename,
            kind=self.kind,
            handler=self.handler,
        )
        params = {
            **self.params,
            "endpoint_id": endpoint.id,
            "drift_window": reason.window_start.isoformat(),
        }
        try:
            run = fn.run(params=params, inputs={self.input_key: self.dataset or dataset})
        except ServegraphError:
            raise
        except Exception as exc:
            raise MonitoringError(f"the retraining run of {endpoint.id!r} failed: {exc}") from exc
        return _run_id(run)


class RetrainTrigger:
    """Start one retraining run per drift episode of an endpoint.

    With a ``policy`` (:class:`~servegraph.monitoring.rollout.RolloutPolicy`), the
    job hands it the finished run: the new model is checked, registered and
    rolled out to the serving endpoints.
    """

    RULE = "__retrain__"

    def __init__(
        self,
        retrainer: Retrainer,
        *,
        level: str = DriftStatus.DRIFT_DETECTED.value,
        output_path: str | Path | None = None,
        dbpath: str | None = None,
        policy: RolloutPolicy | None = None,
    ) -> None:
        self.retrainer = retrainer
        self.policy = policy
        self.level = DriftStatus(level)
        self.output_path = Path(output_path or get_config().home / "monitoring" / "retrain")
        self.state = EpisodeState(dbpath)

    def observe(
        self, endpoint: ModelEndpoint, result: WindowResult, data: pd.DataFrame
    ) -> str | None:
        """Record a window; start and return a retraining run if a drift episode begins."""
        triggered = result.status.severity >= self.level.severity
        key = (endpoint.project, self.RULE, endpoint.id)
        if not self.state.update(key, result.window_start, triggered):
            return None
        dataset = self._write_dataset(endpoint, result, data)
        return self.retrainer.retrain(endpoint, str(dataset), result)

    def _write_dataset(
        self, endpoint: ModelEndpoint, result: WindowResult, data: pd.DataFrame
    ) -> Path:
        if "_row" in data.columns:
            data = data[data["_row"] >= 0]
        features = [c for c in data.columns if c not in META_COLUMNS]
        columns = [*features, "output", "timestamp", "trace_id"]  # trace_id: when traced
        path = (
            self.output_path
            / quote(endpoint.id, safe="")
            / f"{window_key(result.window_start)}.parquet"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        data[[c for c in columns if c in data.columns]].to_parquet(path, index=False)
        return path
