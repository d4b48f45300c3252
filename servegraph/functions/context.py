"""The run context: parameters, secrets, inputs and outputs of the current run.

Code written against the context runs the same by hand, from the CLI (the run
spec comes in the environment), inside a runtime (a spec), or behind an HTTP
function (the event body)::

    from servegraph import get_or_create_ctx

    ctx = get_or_create_ctx("train")
    p1 = ctx.get_param("p1", 1)
    data = ctx.get_input("data").as_df()
    ctx.log_result("accuracy", 0.93)
    ctx.log_model("clf", body=model, training_set=data, label_column="label")
    ctx.commit("done")
"""

from __future__ import annotations

import json
import os
from contextvars import ContextVar
from typing import Any

import yaml

from servegraph.config import get_config
from servegraph.errors import RunError
from servegraph.functions import artifacts as arts
from servegraph.functions.artifact_logging import ArtifactLoggingMixin
from servegraph.functions.runlog import RunLogger
from servegraph.functions.runspec import STATES, merge_run, new_run, now_str, parse_spec, plain
from servegraph.functions.secrets import SecretsStore
from servegraph.names import check_name
from servegraph.storage.dataitem import DataItem, get_dataitem
from servegraph.storage.rundb import RunDB, get_run_db

EXEC_CONFIG_ENV = "SERVEGRAPH_EXEC_CONFIG"
EXEC_SECRETS_ENV = "SERVEGRAPH_EXEC_SECRETS"

# run-spec fields a request to an HTTP function may not set
_SERVER_CHOSEN = ("output_path", "default_output_path", "artifact_path")

_current: ContextVar[RunContext | None] = ContextVar("servegraph_run_context", default=None)


class RunContext(ArtifactLoggingMixin):
    """The context of one run; get it with :func:`get_or_create_ctx`."""

    def __init__(
        self, run: dict[str, Any], secrets: SecretsStore | None = None, db: RunDB | None = None
    ) -> None:
        self._run = run
        self._secrets = secrets or SecretsStore()
        self._db = db
        self.logger = RunLogger(self.name, self._secrets.mask)
        if not run["spec"].get("output_path"):
            check_name("project", self.project)
            check_name("run uid", self.uid)
            path = arts.join_path(get_config().artifact_path, f"{self.project}/{self.uid}")
            if self.iteration:
                path = arts.join_path(path, str(self.iteration))
            run["spec"]["output_path"] = run["spec"]["default_output_path"] = path

    # --- identity -----------------------------------------------------------------
    @property
    def name(self) -> str:
        """The run name."""
        return str(self._run["metadata"]["name"])

    @property
    def uid(self) -> str:
        """The run uid."""
        return str(self._run["metadata"]["uid"])

    @property
    def project(self) -> str:
        """The project of the run."""
        return str(self._run["metadata"]["project"])

    @property
    def iteration(self) -> int:
        """0 for a run, 1.. for the children of a hyper-parameter run."""
        return int(self._run["metadata"].get("iteration") or 0)

    def set_name(self, name: str) -> None:
        """Rename the run (used when the code names a run the CLI left unnamed)."""
        self._run["metadata"]["name"] = name
        self.logger.name = name

    def mask(self, text: str) -> str:
        """``text`` with every secret value of this run replaced by ``***``."""
        return self._secrets.mask(text)

    @property
    def tag(self) -> str:
        """The run tag."""
        return str(self._run["metadata"].get("tag") or "")

    @property
    def labels(self) -> dict[str, str]:
        """Labels of the run (a copy)."""
        return dict(self._run["metadata"]["labels"])

    @property
    def parameters(self) -> dict[str, Any]:
        """Parameters as used so far, defaults included (a copy)."""
        return dict(self._run["spec"]["parameters"])

    @property
    def inputs(self) -> dict[str, str]:
        """Input URLs by key (a copy)."""
        return dict(self._run["spec"]["inputs"])

    @property
    def results(self) -> dict[str, Any]:
        """Results logged so far (a copy)."""
        return dict(self._run["status"]["results"])

    @property
    def artifacts(self) -> list[dict[str, Any]]:
        """Artifact records logged so far."""
        return list(self._run["status"]["artifacts"])

    @property
    def state(self) -> str:
        """The run state: created, running, completed, error or aborted."""
        return str(self._run["status"]["state"])

    @property
    def out_path(self) -> str:
        """Where this run's artifacts are written (a local path or fsspec URL)."""
        return str(self._run["spec"]["output_path"])

    artifact_path = out_path

    @property
    def db(self) -> RunDB | None:
        """The run database the context commits to."""
        return self._db

    # --- inputs -------------------------------------------------------------------
    def get_param(self, key: str, default: Any = None) -> Any:
        """The parameter ``key``; an unset parameter records and returns ``default``."""
        params = self._run["spec"]["parameters"]
        if key not in params:
            params[key] = default
        return params[key]

    def get_secret(self, key: str) -> str | None:
        """The secret ``key`` from the run's secret sources (never recorded)."""
        return self._secrets.get(key)

    def get_input(self, key: str, url: str = "") -> DataItem:
        """The input ``key`` as a data item; ``url`` (or the key itself) if not given by the run."""
        inputs = self._run["spec"]["inputs"]
        if key not in inputs:
            inputs[key] = url or key
            self._run["spec"]["input_objects"].append({"key": key, "path": inputs[key]})
        return get_dataitem(inputs[key], key=key, db=self._db)

    get_object = get_input
    input_artifact = get_input

    def get_dataitem(self, url: str) -> DataItem:
        """Any URL as a data item (not recorded as an input)."""
        return get_dataitem(url, db=self._db)

    # --- outputs ------------------------------------------------------------------
    def log_result(self, key: str, value: Any) -> None:
        """Record a result value (JSON-serialisable; numpy scalars are converted)."""
        value = plain(value)
        try:
            json.dumps(value)
        except TypeError as exc:
            raise RunError(f"The result {key!r} must be JSON-serialisable. Got {value!r}.") from exc
        self._run["status"]["results"][key] = value
        self._run["status"]["outputs"][key] = value

    def log_results(self, results: dict[str, Any]) -> None:
        """Record several results."""
        for key, value in results.items():
            self.log_result(key, value)

    log_output = log_result
    log_outputs = log_results

    def log_metric(
        self, key: str, value: Any, x: Any = None, labels: dict[str, str] | None = None
    ) -> None:
        """Append ``(x, value)`` to the metric series ``key``."""
        series = self._run["status"]["metrics"].setdefault(
            key, {"labels": dict(labels or {}), "xvalues": [], "yvalues": []}
        )
        series["xvalues"].append(str(len(series["xvalues"]) if x is None else x))
        series["yvalues"].append(plain(value))

    def set_label(self, key: str, value: str, replace: bool = True) -> None:
        """Set a run label."""
        labels = self._run["metadata"]["labels"]
        if replace or key not in labels:
            labels[key] = str(value)

    def set_annotation(self, key: str, value: str) -> None:
        """Set a run annotation."""
        self._run["metadata"]["annotations"][key] = str(value)

    # --- lifecycle ----------------------------------------------------------------
    def set_state(self, state: str, error: str | None = None) -> None:
        """Move the run to ``state`` (``error`` carries the message)."""
        if state not in STATES:
            raise RunError(f"The run state must be one of {STATES}. Got {state!r} instead.")
        status = self._run["status"]
        status["state"] = state
        if state == "running" and not status.get("start_time"):
            status["start_time"] = now_str()
        if error is not None:
            status["error"] = self._secrets.mask(str(error))
        status["last_update"] = now_str()

    def commit(self, message: str = "", completed: bool = False) -> None:
        """Save the run record to the run database (``completed`` also ends the run)."""
        if message:
            self._run["status"]["commit"] = message
        if completed and self.state in ("created", "running"):
            self.set_state("completed")
        self._run["status"]["last_update"] = now_str()
        if self._db is not None:
            self._db.store_run(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The run record (a deep copy; secret values are masked even if the code logged one)."""
        data: dict[str, Any] = self._secrets.mask_values(
            json.loads(json.dumps(self._run, default=str))
        )
        return data

    def to_json(self) -> str:
        """The run record as JSON."""
        return json.dumps(self.to_dict())

    def to_yaml(self) -> str:
        """The run record as YAML, in the seed's metadata / spec / status shape."""
        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    def __repr__(self) -> str:
        return f"RunContext(name={self.name!r}, uid={self.uid!r}, state={self.state!r})"


def build_context(
    name: str,
    spec: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    rundb: str | RunDB | None = "",
) -> RunContext:
    """A context from a (partial) run dict; secret sources are loaded, inline values given."""
    spec = dict(spec or {})
    run = merge_run(new_run(name), spec)
    if not run["metadata"].get("name"):
        run["metadata"]["name"] = name
    store = SecretsStore()
    store.add_sources(run["spec"].get("secret_sources") or [], secrets)
    leftover = {k: v for k, v in (secrets or {}).items() if store.get(k) is None}
    if leftover:  # values sent without a recorded source (an HTTP function's request)
        store.add_source("inline", leftover)
    run["spec"]["secret_sources"] = store.sources()
    db = rundb if isinstance(rundb, RunDB) else None if rundb is None else get_run_db(rundb or None)
    return RunContext(run, store, db)


def get_or_create_ctx(
    name: str,
    event: Any = None,
    spec: dict[str, Any] | str | None = None,
    with_env: bool = True,
    rundb: str = "",
) -> RunContext:
    """Return the current run's context, or create one.

    The run spec comes from ``event`` (an HTTP function's event body: the run
    dict, plus an optional ``secrets`` dict that is never recorded), ``spec``,
    the ``SERVEGRAPH_EXEC_CONFIG`` environment variable set by the CLI and the
    job runtime (when ``with_env``), or nothing (a fresh run named ``name``).
    ``rundb`` is the run database URL (default: the configured one).
    """
    current = _current.get()
    if current is not None and event is None and spec is None:
        if not current.name:
            current.set_name(name)
        return current
    secrets: dict[str, str] | None = None
    if event is not None:
        body = parse_spec(getattr(event, "body", event))
        secrets = body.pop("secrets", None)
        for field in _SERVER_CHOSEN:  # where this server writes is not the caller's choice
            (body.get("spec") or {}).pop(field, None)
        run_spec: dict[str, Any] | None = body
    elif spec is not None:
        run_spec = parse_spec(spec)
    elif with_env and os.environ.get(EXEC_CONFIG_ENV):
        run_spec = parse_spec(os.environ[EXEC_CONFIG_ENV])
        secrets = json.loads(os.environ.get(EXEC_SECRETS_ENV) or "{}")
    else:
        run_spec = None
    ctx = build_context(name, run_spec, secrets, rundb)
    if ctx.state == "created":
        ctx.set_state("running")
    _current.set(ctx)
    return ctx


def set_current(ctx: RunContext | None) -> Any:
    """Make ``ctx`` the context ``get_or_create_ctx`` returns; returns a reset token."""
    return _current.set(ctx)


def reset_current(token: Any) -> None:
    """Undo :func:`set_current`."""
    _current.reset(token)
