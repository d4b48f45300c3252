"""Artifacts: files a run produces, stored under its output path and versioned.

Each artifact is written to ``{output_path}/{filename}``, hashed (SHA-256 of the
content), recorded in the run database by key and hash with the tags
``latest`` (and the one given), and addressed as
``store://{artifacts|models|datasets}/{project}/{key}:{tag}``. Its spec holds
the lineage: the producer run (name, uid, project, iteration) and the run's
input URIs.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from servegraph.errors import RunError
from servegraph.featurestore.stats import compute_stats
from servegraph.names import check_name
from servegraph.storage.dataitem import get_dataitem

STORE_KIND = {"artifact": "artifacts", "model": "models", "dataset": "datasets"}


def store_uri(kind: str, project: str, key: str, tag: str = "latest") -> str:
    """The ``store://`` URI of an artifact.

    >>> store_uri("model", "churn", "clf", "v1")
    'store://models/churn/clf:v1'
    """
    return f"store://{STORE_KIND.get(kind, 'artifacts')}/{project}/{key}:{tag or 'latest'}"


def join_path(base: str, name: str) -> str:
    """Join a local path or URL with a file name."""
    return f"{base.rstrip('/')}/{name}"


class ArtifactWriter:
    """Writes artifact bodies and records them; used by the run context."""

    def __init__(
        self,
        producer: dict[str, Any],
        inputs: dict[str, str],
        db: Any,
        mask: Callable[[Any], Any] | None = None,
    ) -> None:
        self.producer = producer
        self.inputs = inputs
        self.db = db
        self.mask = mask  # masks secret values in the record (labels, description...)

    def store(
        self,
        kind: str,
        key: str,
        body: bytes,
        filename: str,
        output_path: str,
        tag: str = "",
        labels: dict[str, str] | None = None,
        description: str = "",
        extra_spec: dict[str, Any] | None = None,
        src_path: str = "",
    ) -> dict[str, Any]:
        """Write ``body`` and record the artifact; return its record."""
        check_name("artifact", key)
        check_name("artifact file", PurePosixPath(filename).name)
        filename = PurePosixPath(filename).name
        digest = hashlib.sha256(body).hexdigest()
        target = join_path(output_path, filename)
        get_dataitem(target).put(body)
        project = self.producer.get("project", "")
        record: dict[str, Any] = {
            "kind": kind,
            "metadata": {
                "key": key,
                "project": project,
                "hash": digest,
                "iter": self.producer.get("iteration", 0),
                "tree": self.producer.get("uid", ""),
                "tag": tag or "latest",
                "labels": dict(labels or {}),
                "updated": datetime.now(UTC).isoformat(),
            },
            "spec": {
                "target_path": target,
                "src_path": src_path,
                "format": PurePosixPath(filename).suffix.lstrip("."),
                "size": len(body),
                "description": description,
                "producer": dict(self.producer),
                "sources": [{"name": k, "path": v} for k, v in self.inputs.items()],
                **(extra_spec or {}),
            },
            "status": {},
        }
        record["uri"] = store_uri(kind, project, key, tag)
        if self.mask is not None:
            record = self.mask(record)
        tags = ("latest", tag) if tag and tag != "latest" else ("latest",)
        if self.db is not None:
            self.db.store_artifact(
                key, record, digest, project=project, tags=tags, producer=self.producer["uid"]
            )
        return record


def artifact_body(
    key: str, body: Any, local_path: str | None, format: str | None
) -> tuple[bytes, str, str]:
    """Return (bytes, file name, source path) for ``log_artifact`` arguments."""
    if body is None and not local_path:
        raise RunError(f"log_artifact({key!r}) needs 'body' or 'local_path'. Got neither.")
    if body is None:
        item = get_dataitem(str(local_path))
        return item.get(), PurePosixPath(str(local_path)).name, str(local_path)
    data = body.encode() if isinstance(body, str) else body
    if not isinstance(data, bytes | bytearray):
        raise RunError(f"The 'body' of artifact {key!r} must be bytes or str. Got {type(body)}.")
    name = key if PurePosixPath(key).suffix or not format else f"{key}.{format}"
    return bytes(data), name, ""


def model_body(key: str, body: Any, model_file: str | None) -> tuple[bytes, str]:
    """Return (bytes, file name) of a model: bytes as given, a path's content, or a pickle."""
    if body is None:
        if not model_file:
            raise RunError(f"log_model({key!r}) needs 'body' or 'model_file'. Got neither.")
        return get_dataitem(model_file).get(), PurePosixPath(model_file).name
    if isinstance(body, bytes | bytearray):
        return bytes(body), PurePosixPath(model_file).name if model_file else f"{key}.bin"
    return pickle.dumps(body), PurePosixPath(model_file).name if model_file else f"{key}.pkl"


def model_spec(
    model_file: str,
    metrics: dict[str, Any] | None,
    framework: str | None,
    parameters: dict[str, Any] | None,
    training_set: pd.DataFrame | None,
    label_column: str | list[str] | None,
) -> dict[str, Any]:
    """The model-specific spec fields, with reference statistics of the training set."""
    spec: dict[str, Any] = {
        "model_file": model_file,
        "metrics": dict(metrics or {}),
        "framework": framework or "",
        "parameters": dict(parameters or {}),
    }
    if training_set is not None:
        labels = [label_column] if isinstance(label_column, str) else list(label_column or [])
        missing = [c for c in labels if c not in training_set.columns]
        if missing:
            raise RunError(f"The 'label_column' {missing} is not a column of the training set.")
        features = [c for c in training_set.columns if c not in labels]
        spec["feature_stats"] = compute_stats(training_set)
        spec["label_column"] = label_column
        dtypes = {c: str(t) for c, t in training_set.dtypes.items()}
        spec["inputs"] = [{"name": str(c), "value_type": dtypes[c]} for c in features]
        spec["outputs"] = [{"name": str(c), "value_type": dtypes[c]} for c in labels]
    return spec


def dataset_body(key: str, df: pd.DataFrame, format: str) -> tuple[bytes, str]:
    """Serialise a DataFrame to parquet or csv bytes."""
    if not isinstance(df, pd.DataFrame):
        raise RunError(f"The 'df' of dataset {key!r} must be a DataFrame. Got {type(df)}.")
    buf = io.BytesIO()
    if format == "parquet":
        df.to_parquet(buf, index=False)
    elif format == "csv":
        df.to_csv(buf, index=False)
    else:
        raise RunError(f"The 'format' of dataset {key!r} must be parquet or csv. Got {format!r}.")
    return buf.getvalue(), f"{key}.{format}"


def dataset_spec(df: pd.DataFrame, stats: bool, preview: int = 5) -> dict[str, Any]:
    """Schema, length, a preview and (optionally) statistics of a dataset."""
    spec: dict[str, Any] = {
        "header": [str(c) for c in df.columns],
        "length": len(df),
        "schema": {str(c): str(t) for c, t in df.dtypes.items()},
        "preview": json.loads(df.head(preview).to_json(orient="values", date_format="iso")),
    }
    if stats:
        spec["stats"] = compute_stats(df)
    return spec
