"""The Function base: metadata + spec + code, hash-versioned, runnable.

A runtime kind subclasses :class:`Function` and implements one hook,
``_execute(run, secrets, watch, db) -> run dict``; the base builds the run
record, handles hyper-parameter runs, and stores the function's versions.

>>> fn = new_function("trainer", kind="job", command="train.py")   # doctest: +SKIP
>>> run = fn.run(handler="train", params={"n_estimators": 10})     # doctest: +SKIP
>>> fn.save()                                                      # doctest: +SKIP
'9f2c...'
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

import yaml

from servegraph.errors import RunError, RunFailedError
from servegraph.functions.runobject import RunObject
from servegraph.functions.runspec import DEFAULT_PROJECT, new_run
from servegraph.functions.secrets import SecretsStore
from servegraph.storage.rundb import RunDB, get_run_db

SecretsArg = dict[str, str] | list[dict[str, Any]] | None


class Function:
    """A function: ``metadata`` (name, project, tag, hash), ``spec`` (command, image, ...)."""

    kind: ClassVar[str] = ""
    #: hyper-parameter children run at once when ``parallel_runs`` is not given
    default_parallel_runs: ClassVar[int] = 1

    def __init__(
        self,
        name: str = "",
        project: str = "",
        command: str | None = None,
        image: str | None = None,
        requirements: list[str] | None = None,
        handler: str | None = None,
        description: str = "",
        **spec: Any,
    ) -> None:
        self.metadata: dict[str, Any] = {
            "name": name,
            "project": project or DEFAULT_PROJECT,
            "tag": "",
            "hash": "",
            "labels": {},
        }
        self.spec: dict[str, Any] = {
            "command": command or "",
            "image": image or "",
            "requirements": list(requirements or []),
            "default_handler": handler or "",
            "description": description,
            "env": {},
            "build": {},
            **spec,
        }

    # --- identity and (de)serialisation -------------------------------------------
    @property
    def name(self) -> str:
        """The function name."""
        return str(self.metadata["name"])

    @property
    def project(self) -> str:
        """The function's project."""
        return str(self.metadata["project"])

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "metadata", "spec"}`` (a deep copy)."""
        return copy.deepcopy({"kind": self.kind, "metadata": self.metadata, "spec": self.spec})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Function:
        """Build the function from its dict (the class of ``data["kind"]`` if needed)."""
        from servegraph.functions.factory import function_class

        kind = data.get("kind") or cls.kind
        target = cls if kind == cls.kind else function_class(kind)
        if not issubclass(target, Function):
            built: Function = target.from_dict(data)
            return built
        fn: Function = object.__new__(target)
        Function.__init__(fn)
        fn.metadata.update(copy.deepcopy(data.get("metadata") or {}))
        fn.spec.update(copy.deepcopy(data.get("spec") or {}))
        return fn

    def to_yaml(self) -> str:
        """The function as YAML."""
        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    def export(self, path: str) -> str:
        """Write the function YAML to ``path``; return the path."""
        Path(path).write_text(self.to_yaml())
        return path

    # --- code and versions ----------------------------------------------------------
    def with_code(self, filename: str = "", body: str | None = None) -> Function:
        """Embed the code (a file's content or ``body``) in the spec."""
        if body is None:
            path = Path(filename or self.spec["command"])
            if not path.is_file():
                raise RunError(f"The code file {str(path)!r} of function {self.name!r} is missing.")
            body = path.read_text()
            self.spec["command"] = str(path)
        self.spec["build"]["functionSourceCode"] = base64.b64encode(body.encode()).decode()
        return self

    def code(self) -> str:
        """The function's code: embedded, or read from ``spec.command`` if it is a file."""
        embedded = self.spec.get("build", {}).get("functionSourceCode")
        if embedded:
            return base64.b64decode(embedded).decode()
        path = Path(str(self.spec.get("command") or ""))
        return path.read_text() if path.suffix == ".py" and path.is_file() else ""

    def hash(self) -> str:
        """SHA-1 over the kind, the spec and the code (what makes a version)."""
        doc = json.dumps({"kind": self.kind, "spec": self.spec}, sort_keys=True, default=str)
        return hashlib.sha1((doc + "\n" + self.code()).encode()).hexdigest()

    @property
    def uri(self) -> str:
        """``project/name@hash`` of this version."""
        return f"{self.project}/{self.name}@{self.hash()}"

    def save(self, tag: str = "latest", db: RunDB | None = None) -> str:
        """Store this version in the run database, tagged ``latest`` (and ``tag``)."""
        if not self.name:
            raise RunError("A function needs a 'name' to be saved. Got ''.")
        digest = self.hash()
        self.metadata["hash"] = digest
        if tag != "latest":
            self.metadata["tag"] = tag
        tags = ("latest",) if tag == "latest" else ("latest", tag)
        (db or get_run_db()).store_function(self.to_dict(), self.name, digest, self.project, tags)
        return digest

    # --- running ----------------------------------------------------------------------
    def run(
        self,
        handler: str | None = None,
        params: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
        hyperparams: dict[str, list[Any]] | None = None,
        hyper_param_options: dict[str, Any] | None = None,
        selector: str | None = None,
        local: bool | None = None,
        watch: bool = True,
        name: str | None = None,
        secrets: SecretsArg = None,
        artifact_path: str = "",
        labels: dict[str, str] | None = None,
        raise_on_error: bool = False,
    ) -> RunObject:
        """Run the function and return the run (see the module docstring).

        ``secrets`` is a dict of values or a list of sources (``{"kind": "file" |
        "env", "source": ...}``); ``hyperparams`` with ``hyper_param_options``
        (``strategy`` grid/list/random, ``max_iterations``, ``stop_condition``,
        ``parallel_runs``, ``selector``) starts one child run per combination.
        """
        handler = handler if handler is not None else self.spec.get("default_handler", "")
        run = new_run(
            name or self.name or handler or "",  # "" lets the code name it (or the file's stem)
            project=self.project,
            kind=self.kind,
            command=str(self.spec.get("command") or ""),
            handler=handler or "",
            parameters=params,
            inputs=inputs,
            output_path=artifact_path,
            labels={"kind": self.kind, **(labels or {})},
        )
        run["spec"]["function"] = self.uri
        inline = self._secret_sources(run, secrets)
        db = get_run_db()
        options = dict(hyper_param_options or {})
        if selector:
            options["selector"] = selector
        if hyperparams or options.get("param_file"):
            from servegraph.functions.hyper import run_hyper

            result = run_hyper(self, run, hyperparams or {}, options, inline, watch, db, local)
        else:
            result = self._execute(run, inline, watch, db, local)
        obj = RunObject(result, db)
        if raise_on_error and obj.state() == "error":
            exc = RunFailedError(f"run {obj.name!r} ({obj.uid}) failed: {obj.error}")
            exc.run = obj  # type: ignore[attr-defined]
            raise exc
        return obj

    @staticmethod
    def _secret_sources(run: dict[str, Any], secrets: SecretsArg) -> dict[str, str]:
        """Validate the secrets argument into recorded sources and inline values."""
        store = SecretsStore()
        inline: dict[str, str] = {}
        if isinstance(secrets, dict):
            inline = {str(k): str(v) for k, v in secrets.items()}
            store.add_source("inline", inline)
        elif secrets:
            for src in secrets:
                store.add_source(str(src.get("kind")), src.get("source"))
        run["spec"]["secret_sources"] = store.sources()
        return inline

    def run_children(
        self,
        children: list[dict[str, Any]],
        secrets: dict[str, str],
        parallel: int,
        db: RunDB,
        local: bool | None,
    ) -> list[dict[str, Any]]:
        """Run hyper-parameter children: on the warm worker pool when ``parallel > 1``."""
        if parallel > 1:
            from servegraph.functions.local import code_file
            from servegraph.functions.pool import run_in_pool

            command = code_file(self)
            for child in children:
                child["spec"]["runtime"]["command"] = command
            return run_in_pool(children, secrets, parallel, db.url)
        return [self._execute(child, secrets, False, db, local) for child in children]

    def _execute(
        self,
        run: dict[str, Any],
        secrets: dict[str, str],
        watch: bool,
        db: RunDB,
        local: bool | None,
    ) -> dict[str, Any]:
        """Execute one run and return its final record (the runtime's hook)."""
        raise NotImplementedError(f"functions of kind {self.kind!r} cannot run jobs")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, project={self.project!r})"
