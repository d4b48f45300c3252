"""The object ``fn.run(...)`` returns: a run record with convenient accessors."""

from __future__ import annotations

import json
from typing import Any

import yaml

from servegraph.errors import RunError
from servegraph.storage.dataitem import DataItem, get_dataitem
from servegraph.storage.rundb import RunDB, get_run_db


class RunObject:
    """A finished (or running) run: ``state()``, ``outputs``, ``artifact(key)``, ``uid``.

    >>> run = fn.run(handler="train", params={"n": 3})     # doctest: +SKIP
    >>> run.state(), run.outputs["accuracy"]                # doctest: +SKIP
    """

    def __init__(self, run: dict[str, Any], db: RunDB | None = None) -> None:
        self._run = run
        self._db = db

    @property
    def metadata(self) -> dict[str, Any]:
        """The run's metadata section."""
        return dict(self._run["metadata"])

    @property
    def spec(self) -> dict[str, Any]:
        """The run's spec section."""
        return dict(self._run["spec"])

    @property
    def status(self) -> dict[str, Any]:
        """The run's status section."""
        return dict(self._run["status"])

    @property
    def uid(self) -> str:
        """The run uid."""
        return str(self._run["metadata"]["uid"])

    @property
    def name(self) -> str:
        """The run name."""
        return str(self._run["metadata"]["name"])

    @property
    def project(self) -> str:
        """The run's project."""
        return str(self._run["metadata"]["project"])

    def state(self) -> str:
        """The run state (created, running, completed, error, aborted)."""
        return str(self._run["status"]["state"])

    @property
    def error(self) -> str | None:
        """The error message of a failed run."""
        error = self._run["status"].get("error")
        return str(error) if error else None

    @property
    def outputs(self) -> dict[str, Any]:
        """Results and artifact URIs by key."""
        out = dict(self._run["status"].get("results") or {})
        for art in self._run["status"].get("artifacts") or []:
            out[art["metadata"]["key"]] = art["uri"]
        return out

    @property
    def results(self) -> dict[str, Any]:
        """Results only."""
        return dict(self._run["status"].get("results") or {})

    def artifact(self, key: str) -> DataItem:
        """The data of the artifact ``key`` this run logged."""
        for art in self._run["status"].get("artifacts") or []:
            if art["metadata"]["key"] == key:
                return get_dataitem(art["spec"]["target_path"], key=key)
        known = sorted(a["metadata"]["key"] for a in self._run["status"].get("artifacts") or [])
        raise RunError(f"Run {self.uid} has no artifact {key!r}; it logged {known}.")

    def refresh(self) -> RunObject:
        """Reload the record from the run database."""
        db = self._db or get_run_db()
        self._run = db.read_run(self.uid, self.project, int(self._run["metadata"]["iteration"]))
        return self

    def logs(self) -> str:
        """The run's stored log."""
        return (self._db or get_run_db()).get_log(self.uid, self.project).decode(errors="replace")

    def to_dict(self) -> dict[str, Any]:
        """The run record (a copy)."""
        data: dict[str, Any] = json.loads(json.dumps(self._run))
        return data

    def to_yaml(self) -> str:
        """The run record as YAML."""
        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    def __repr__(self) -> str:
        return f"RunObject(name={self.name!r}, uid={self.uid!r}, state={self.state()!r})"
