"""Artifact, model and dataset logging of a run context (the ``log_*`` methods).

:class:`~servegraph.functions.context.RunContext` gets them from this mixin::

    ctx.log_artifact("report", body="<html>...</html>", format="html")
    ctx.log_model("clf", body=model, training_set=df, label_column="label")
    ctx.log_dataset("clean", df=df)
"""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from servegraph.functions import artifacts as arts
from servegraph.functions.secrets import SecretsStore
from servegraph.storage.rundb import RunDB


class _RunOwner(Protocol):
    """What the mixin needs from its run context."""

    _run: dict[str, Any]
    _db: RunDB | None
    _secrets: SecretsStore

    @property
    def name(self) -> str: ...

    @property
    def uid(self) -> str: ...

    @property
    def project(self) -> str: ...

    @property
    def iteration(self) -> int: ...

    @property
    def inputs(self) -> dict[str, str]: ...

    @property
    def out_path(self) -> str: ...


class ArtifactLoggingMixin:
    """``log_artifact``, ``log_model`` and ``log_dataset`` of a run context."""

    def log_artifact(
        self: _RunOwner,
        key: str,
        body: bytes | str | None = None,
        local_path: str | None = None,
        format: str | None = None,
        labels: dict[str, str] | None = None,
        tag: str = "",
        description: str = "",
    ) -> dict[str, Any]:
        """Store a file artifact from ``body`` or ``local_path``; return its record."""
        data, filename, src = arts.artifact_body(key, body, local_path, format)
        record = _writer(self).store(
            "artifact", key, data, filename, self.out_path, tag, labels, description, src_path=src
        )
        return _add_artifact(self, record)

    def log_model(
        self: _RunOwner,
        key: str,
        body: Any = None,
        model_file: str | None = None,
        metrics: dict[str, Any] | None = None,
        framework: str | None = None,
        training_set: pd.DataFrame | None = None,
        label_column: str | list[str] | None = None,
        parameters: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None,
        tag: str = "",
        description: str = "",
    ) -> dict[str, Any]:
        """Store a model (bytes, a file, or any picklable object) with its metrics.

        A ``training_set`` adds ``feature_stats`` (the reference statistics that
        monitoring compares live data with) and the model's inputs and outputs.
        """
        data, filename = arts.model_body(key, body, model_file)
        extra = arts.model_spec(
            filename, metrics, framework, parameters, training_set, label_column
        )
        record = _writer(self).store(
            "model", key, data, filename, arts.join_path(self.out_path, key), tag, labels,
            description, extra_spec=extra,
        )  # fmt: skip
        return _add_artifact(self, record)

    def log_dataset(
        self: _RunOwner,
        key: str,
        df: pd.DataFrame,
        format: str = "parquet",
        stats: bool = True,
        labels: dict[str, str] | None = None,
        tag: str = "",
        description: str = "",
    ) -> dict[str, Any]:
        """Store a DataFrame as parquet or csv with its schema, preview and statistics."""
        data, filename = arts.dataset_body(key, df, format)
        extra = arts.dataset_spec(df, stats)
        record = _writer(self).store(
            "dataset", key, data, filename, self.out_path, tag, labels, description,
            extra_spec=extra,
        )  # fmt: skip
        return _add_artifact(self, record)


def _writer(ctx: _RunOwner) -> arts.ArtifactWriter:
    """The artifact writer of the run: its producer record, inputs and database."""
    meta = ctx._run["metadata"]
    producer = {
        "kind": "run",
        "name": ctx.name,
        "uid": ctx.uid,
        "project": ctx.project,
        "iteration": ctx.iteration,
        "uri": f"{ctx.project}/{ctx.uid}",
    }
    producer["workflow"] = meta["labels"].get("workflow", "")
    return arts.ArtifactWriter(producer, ctx.inputs, ctx._db, ctx._secrets.mask_values)


def _add_artifact(ctx: _RunOwner, record: dict[str, Any]) -> dict[str, Any]:
    """Add (or replace by key) ``record`` in the run's artifacts and output artifacts."""
    status = ctx._run["status"]
    key = record["metadata"]["key"]
    status["artifacts"] = [a for a in status["artifacts"] if a["metadata"]["key"] != key]
    status["artifacts"].append(record)
    status["output_artifacts"] = [a for a in status["output_artifacts"] if a["key"] != key]
    status["output_artifacts"].append(
        {
            "key": key,
            "kind": record["kind"],
            "description": record["spec"]["description"],
            "uri": record["uri"],
            "target_path": record["spec"]["target_path"],
            "hash": record["metadata"]["hash"],
        }
    )
    return record
