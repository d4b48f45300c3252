"""Projects: functions, workflows, parameters and schedules kept in ``project.yaml``.

>>> project = new_project("churn", context="./churn")                # doctest: +SKIP
>>> project.set_function("train.py", name="train", kind="job", handler="train")  # doctest: +SKIP
>>> project.set_workflow("main", "workflow.py")                      # doctest: +SKIP
>>> project.run("main", arguments={"source": "data.csv"})            # doctest: +SKIP
>>> project.list_runs(), project.list_models()                       # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from servegraph.errors import InvalidNameError, NotFoundInStoreError, RunError
from servegraph.functions.artifacts import store_uri
from servegraph.functions.base import Function
from servegraph.functions.factory import code_to_function, import_function, new_function
from servegraph.functions.runobject import RunObject
from servegraph.functions.schedules import validate_cron
from servegraph.functions.serving_code import caller_globals
from servegraph.functions.workflow import (
    Step,
    WorkflowComposer,
    WorkflowRun,
    compose,
    execute_workflow,
)
from servegraph.names import check_name
from servegraph.storage.dataitem import get_dataitem
from servegraph.storage.rundb import RunDB, get_run_db

PROJECT_FILE = "project.yaml"
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _check_name(name: str) -> str:
    check_name("project", name)  # the one rule; a Project is also a DNS label (Nuclio, k8s)
    if not _NAME.match(name):
        raise InvalidNameError(
            "The project 'name' must be lower-case letters, digits and '-' (max 63). "
            f"Got {name!r} instead."
        )
    return name


class Project:
    """A project: see the module docstring. Build it with :func:`new_project` & co."""

    def __init__(
        self,
        name: str,
        context: str = ".",
        params: dict[str, Any] | None = None,
        description: str = "",
    ) -> None:
        self.name = _check_name(name)
        self.context = str(Path(context).resolve())
        self.spec: dict[str, Any] = {
            "description": description,
            "params": dict(params or {}),
            "functions": [],
            "workflows": [],
            "artifacts": [],
        }
        self._composer: WorkflowComposer | None = None

    # --- persistence ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"kind": "project", "metadata": {"name"}, "spec": {...}}``."""
        return {"kind": "project", "metadata": {"name": self.name}, "spec": dict(self.spec)}

    def to_yaml(self) -> str:
        """The project as YAML."""
        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    def save(self, db: RunDB | None = None) -> Project:
        """Write ``project.yaml`` into the context and store the project in the run DB."""
        Path(self.context).mkdir(parents=True, exist_ok=True)
        (Path(self.context) / PROJECT_FILE).write_text(self.to_yaml())
        (db or get_run_db()).store_project(self.name, {**self.to_dict(), "context": self.context})
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any], context: str) -> Project:
        """Build a project from its dict (as in ``project.yaml``)."""
        name = (data.get("metadata") or {}).get("name", "")
        project = cls(name, context)
        project.spec.update(data.get("spec") or {})
        return project

    @property
    def params(self) -> dict[str, Any]:
        """Project parameters (defaults for every run's params)."""
        return dict(self.spec["params"])

    # --- functions --------------------------------------------------------------------
    def set_function(
        self,
        func: str | Any,
        name: str = "",
        kind: str = "",
        image: str = "",
        handler: str = "",
    ) -> Any:
        """Add (or replace) a function: a code file, a YAML spec, ``hub://name`` or an object.

        ``set_function("app.py", name="scores", kind="serving")`` gives a serving
        function carrying ``app.py``: build its graph on the returned object.
        """
        if not isinstance(func, str):
            entry: dict[str, Any] = {"name": name or func.name, "spec": func.to_dict()}
        else:
            entry = {"name": name, "url": func, "kind": kind, "image": image, "handler": handler}
            entry = {k: v for k, v in entry.items() if v}
        fn = self._build(entry)
        entry["name"] = fn.name
        self.spec["functions"] = [f for f in self.spec["functions"] if f["name"] != fn.name]
        self.spec["functions"].append(entry)
        fn.save()
        return fn

    def _build(self, entry: dict[str, Any]) -> Any:
        if "spec" in entry:
            fn = Function.from_dict(entry["spec"])
        else:
            url = str(entry.get("url", ""))
            local = url if url.startswith("hub://") else str(Path(self.context) / url)
            if url.endswith(".py"):
                fn = code_to_function(
                    entry.get("name") or Path(url).stem, local, kind=entry.get("kind") or "job",
                    handler=entry.get("handler"),
                )  # fmt: skip
            elif url:
                fn = import_function(local)
                if entry.get("kind") and entry["kind"] != fn.kind:  # e.g. a hub job run locally
                    fn = Function.from_dict({**fn.to_dict(), "kind": entry["kind"]})
            else:
                fn = new_function(entry.get("name", ""), kind=entry.get("kind") or "job")
            if not isinstance(fn, Function):  # a serving function: graph, code and image
                if entry.get("image"):
                    fn.with_build(image=entry["image"])
                fn.name = entry.get("name") or fn.name
                fn.project = self.name
                return fn
            if entry.get("handler"):
                fn.spec["default_handler"] = entry["handler"]
            if entry.get("image"):
                fn.spec["image"] = entry["image"]
        if not isinstance(fn, Function):
            fn.project = self.name
            return fn
        if entry.get("name"):
            fn.metadata["name"] = entry["name"]
        fn.metadata["project"] = self.name
        return fn

    def get_function(self, name: str) -> Any:
        """The project function ``name``."""
        for entry in self.spec["functions"]:
            if entry["name"] == name:
                return self._build(entry)
        known = sorted(f["name"] for f in self.spec["functions"])
        raise RunError(f"Project {self.name!r} has no function {name!r}; it has {known}.")

    def deploy_function(self, function: Any, **kwargs: Any) -> Any:
        """Deploy a serving function of this project (``servegraph.deploy_function``'s
        arguments: ``models``, ``env``, ``mock``, ``dashboard``)."""
        from servegraph.functions.deploy import deploy_function

        if not getattr(function, "project", None):
            function.project = self.name
        if kwargs.get("namespace") is None:
            kwargs["namespace"] = caller_globals()
        return deploy_function(function, **kwargs)

    def run_function(
        self,
        function: str | Function,
        handler: str | None = None,
        params: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        name: str | None = None,
        watch: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Run a project function (by name or object) with the project's params as defaults.

        Inside a workflow handler this declares a step and returns a :class:`Step`.
        """
        call = {"handler": handler, "params": params, "inputs": inputs, "name": name, **kwargs}
        if self._composer is not None:
            fn_name = function if isinstance(function, str) else function.name
            return self._composer.add(name or fn_name, function, call)
        fn = self.get_function(function) if isinstance(function, str) else function
        fn.metadata["project"] = self.name
        return fn.run(
            handler=handler, params={**self.params, **(params or {})}, inputs=inputs,
            name=name, watch=watch, **kwargs,
        )  # fmt: skip

    # --- workflows ----------------------------------------------------------------------
    def set_workflow(self, name: str, path: str, handler: str = "pipeline") -> None:
        """Register the workflow file ``path`` (relative to the context) under ``name``."""
        if not (Path(self.context) / path).is_file():
            raise RunError(f"The workflow file {path!r} does not exist in {self.context}.")
        self.spec["workflows"] = [w for w in self.spec["workflows"] if w["name"] != name]
        self.spec["workflows"].append({"name": name, "path": path, "handler": handler})

    @contextmanager
    def composing(self, composer: WorkflowComposer) -> Iterator[None]:
        """While active, ``run_function`` records workflow steps instead of running."""
        self._composer = composer
        try:
            yield
        finally:
            self._composer = None

    def run(
        self, name: str = "", arguments: dict[str, Any] | None = None, watch: bool = True
    ) -> WorkflowRun:
        """Run the workflow ``name`` (the only one if not given) on the local DAG engine."""
        workflows = {w["name"]: w for w in self.spec["workflows"]}
        if not name and len(workflows) == 1:
            name = next(iter(workflows))
        if name not in workflows:
            raise RunError(
                f"Project {self.name!r} has no workflow {name!r}; it has {sorted(workflows)}."
            )
        wf = workflows[name]
        composer = compose(
            self, str(Path(self.context) / wf["path"]), wf.get("handler") or "pipeline",
            dict(arguments or {}),
        )  # fmt: skip
        return execute_workflow(self, name, composer, watch)

    def set_artifact(
        self, key: str, target_path: str, kind: str = "artifact", tag: str = ""
    ) -> str:
        """Register an existing file or URL (relative paths: the context) as a project artifact.

        It is recorded in ``project.yaml`` and versioned in the run DB by content
        hash; returns its ``store://`` URI.
        """
        local = target_path if "://" in target_path else str(Path(self.context) / target_path)
        digest = hashlib.sha256(get_dataitem(local).get()).hexdigest()
        uri = store_uri(kind, self.name, key, tag)
        record = {
            "kind": kind,
            "metadata": {"key": key, "project": self.name, "hash": digest, "tag": tag or "latest"},
            "spec": {"target_path": local, "producer": {"kind": "project", "name": self.name}},
            "status": {},
            "uri": uri,
        }
        tags = ("latest", tag) if tag and tag != "latest" else ("latest",)
        get_run_db().store_artifact(key, record, digest, self.name, tags, producer="")
        self.spec["artifacts"] = [a for a in self.spec["artifacts"] if a["key"] != key]
        self.spec["artifacts"].append({"key": key, "kind": kind, "target_path": target_path})
        return uri

    # --- listings and schedules ---------------------------------------------------------
    def list_runs(self, **filters: Any) -> list[RunObject]:
        """Runs of the project (newest first); filters as in ``RunDB.list_runs``."""
        db = get_run_db()
        return [RunObject(r, db) for r in db.list_runs(project=self.name, **filters)]

    def list_artifacts(self, **filters: Any) -> list[dict[str, Any]]:
        """Artifact versions of the project (newest first)."""
        return get_run_db().list_artifacts(project=self.name, **filters)

    def list_models(self, key: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Model artifacts of the project (versions of ``key`` only, when given), newest first."""
        return get_run_db().list_artifacts(project=self.name, key=key, kind="model", **filters)

    def tag_model(self, uri: str, tag: str, by: str = "", reason: str = "") -> dict[str, Any]:
        """Point ``tag`` (e.g. ``production``) at the model version ``uri`` names.

        ``uri`` is ``store://models/...`` or a key of this project (``key[:tag][@uid]``).
        """
        from servegraph.functions.registry import tag_model

        if not uri.startswith("store://"):
            uri = f"store://models/{self.name}/{uri}"
        return tag_model(uri, tag, by=by, reason=reason)

    def list_functions(self) -> list[dict[str, Any]]:
        """The saved (``latest``) functions of the project."""
        return get_run_db().list_functions(project=self.name)

    def set_schedule(
        self,
        name: str,
        cron: str,
        function: str = "",
        workflow: str = "",
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Schedule a function run or a workflow with a 5-field cron string (validated)."""
        validate_cron(cron)
        if bool(function) == bool(workflow):
            raise RunError(f"Schedule {name!r} needs exactly one of 'function' or 'workflow'.")
        if function:
            self.get_function(function)
        elif workflow not in {w["name"] for w in self.spec["workflows"]}:
            raise RunError(
                f"Schedule {name!r}: project {self.name!r} has no workflow {workflow!r}."
            )
        kind = "function" if function else "workflow"
        target = {"function": function, "workflow": workflow, "params": dict(params or {})}
        db = get_run_db()
        db.store_schedule(self.name, name, cron, kind, target)
        return db.get_schedule(self.name, name)

    def list_schedules(self) -> list[dict[str, Any]]:
        """The project's schedules."""
        return get_run_db().list_schedules(self.name)

    def __repr__(self) -> str:
        return f"Project(name={self.name!r}, context={self.context!r})"


def new_project(
    name: str,
    context: str = ".",
    save: bool = True,
    params: dict[str, Any] | None = None,
    description: str = "",
) -> Project:
    """Create a project in the ``context`` directory (and save it unless ``save=False``)."""
    project = Project(name, context, params, description)
    return project.save() if save else project


def load_project(context: str = ".", name: str = "") -> Project:
    """Load the project from ``{context}/project.yaml`` (or by ``name`` from the run DB)."""
    path = Path(context) / PROJECT_FILE
    if path.is_file():
        data = yaml.safe_load(path.read_text()) or {}
        return Project.from_dict(data, context)
    if name:
        try:
            data = get_run_db().get_project(name)
        except NotFoundInStoreError:
            pass
        else:
            return Project.from_dict(data, str(data.get("context") or context))
    raise RunError(f"No {PROJECT_FILE} in {str(Path(context).resolve())!r} to load a project from.")


def get_or_create_project(name: str, context: str = ".", save: bool = True) -> Project:
    """Load the project in ``context`` (or named ``name`` in the DB), or create it."""
    try:
        project = load_project(context, name)
    except RunError:
        return new_project(name, context, save=save)
    if project.name != name:
        raise RunError(
            f"The {PROJECT_FILE} in {context!r} is project {project.name!r}, not {name!r}."
        )
    return project


__all__ = ["Project", "Step", "get_or_create_project", "load_project", "new_project"]
