"""The run record: one dict in the metadata / spec / status shape.

The shape follows the seed example and adds the newer fields::

    metadata: name, uid, iteration, project, tag, labels (owner, workflow, kind, host),
              annotations
    spec:     function, runtime {kind, command}, handler, parameters, inputs {key: url},
              input_objects [{key, path}], secret_sources [{kind, source}], data_stores,
              output_path, default_output_path, output_artifacts, hyperparams,
              hyper_param_options
    status:   state, results, outputs (= results), metrics {key: {labels, xvalues, yvalues}},
              start_time, last_update, artifacts [records], output_artifacts [{key, ...}],
              error, commit
"""

from __future__ import annotations

import getpass
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

import yaml

from servegraph.errors import RunError

STATES = ("created", "running", "completed", "error", "aborted")
DEFAULT_PROJECT = "default"


def now_str() -> str:
    """The current UTC time as ``YYYY-MM-DD HH:MM:SS.ffffff+00:00`` (the seed's format)."""
    return datetime.now(UTC).isoformat(sep=" ")


def new_uid() -> str:
    """A new 32-hex-digit run uid."""
    return uuid.uuid4().hex


def _owner() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_run(
    name: str,
    project: str = "",
    uid: str = "",
    kind: str = "",
    command: str = "",
    handler: str = "",
    parameters: dict[str, Any] | None = None,
    inputs: dict[str, str] | None = None,
    output_path: str = "",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A fresh run record with every field of the shape present."""
    inputs = dict(inputs or {})
    return {
        "metadata": {
            "name": name,
            "uid": uid or new_uid(),
            "iteration": 0,
            "project": project or DEFAULT_PROJECT,
            "tag": "",
            "labels": {
                "owner": _owner(),
                "workflow": "",  # the workflow run's uid when a workflow step
                "host": socket.gethostname(),
                **(labels or {}),
            },
            "annotations": {},
        },
        "spec": {
            "function": "",
            "runtime": {"kind": kind, "command": command},
            "handler": handler,
            "parameters": dict(parameters or {}),
            "inputs": inputs,
            "input_objects": [{"key": k, "path": v} for k, v in inputs.items()],
            "secret_sources": [],
            "data_stores": [],
            "output_path": output_path,
            "default_output_path": output_path,
            "output_artifacts": [],
            "hyperparams": {},
            "hyper_param_options": {},
        },
        "status": {
            "state": "created",
            "results": {},
            "outputs": {},
            "metrics": {},
            "start_time": "",
            "last_update": now_str(),
            "artifacts": [],
            "output_artifacts": [],
            "error": None,
            "commit": "",
        },
    }


def merge_run(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Fill ``update`` (a partial run dict) over a full record ``base``, section by section."""
    for section in ("metadata", "spec", "status"):
        for key, value in (update.get(section) or {}).items():
            if isinstance(value, dict) and isinstance(base[section].get(key), dict):
                base[section][key] = {**base[section][key], **value}
            else:
                base[section][key] = value
    inputs = base["spec"].get("inputs") or {}
    base["spec"]["input_objects"] = [{"key": k, "path": v} for k, v in inputs.items()]
    return base


def plain(value: Any) -> Any:
    """Turn numpy scalars and arrays into JSON-friendly Python values."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def parse_spec(spec: Any) -> dict[str, Any]:
    """A run dict from a dict, JSON or YAML text (or bytes)."""
    if isinstance(spec, bytes | bytearray):
        spec = spec.decode()
    if isinstance(spec, str):
        spec = yaml.safe_load(spec) if spec.strip() else {}
    if not isinstance(spec, dict):
        raise RunError(f"A run spec must be a dict, JSON or YAML. Got {type(spec).__name__}.")
    return dict(spec)
