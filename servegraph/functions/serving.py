"""The serving function: a graph plus its parameters, tested in-process or deployed.

    fn = servegraph.new_function("churn", kind="serving")
    graph = fn.set_topology("flow", engine="async")
    graph.to(name="prep", handler="prep").to("ModelRouter", name="router").respond()
    fn.add_model("m1", class_name="MyModel", model_path="m1.pkl", router_step="router")
    server = fn.to_mock_server()
    server.test("/v2/models/m1/infer", body={"inputs": [[1, 2]]})

``deploy_function(fn, mock=True)`` then ``fn.invoke(path, body)`` go through an
in-process server; ``fn.export(path)`` writes the Nuclio spec and ``fn.deploy()``
deploys it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from servegraph.errors import DeployError, GraphError
from servegraph.functions.serving_code import ServingCode, caller_globals
from servegraph.functions.serving_options import ServingOptions
from servegraph.graph import RootFlowStep, RouterStep
from servegraph.graph.serialize import graph_from_dict
from servegraph.serving.mock import MockServer, create_mock_server

TOPOLOGIES = ("router", "flow")


@dataclass
class ServingSpec:
    """What a serving function runs: the graph and its settings."""

    graph: RootFlowStep | RouterStep | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    tracking: dict[str, Any] | None = None
    load_mode: str = "sync"
    verbose: bool = False
    http: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)
    build: dict[str, Any] = field(default_factory=dict)
    code_module: str | None = None
    image: str = ""
    function_refs: dict[str, dict[str, Any]] = field(default_factory=dict)


class ServingFunction(ServingCode, ServingOptions):
    """A function of kind ``serving`` (see the module docstring).

    Parameters:
        name, project, tag: identity; ``uri`` is ``project/name:tag``.
        parameters: values steps read with ``context.get_param``.
        command: a code file (or folder) the graph's classes and handlers live in.
        image, requirements: the image's base and the packages installed in it.
    """

    kind = "serving"

    def __init__(
        self,
        name: str = "",
        project: str = "",
        tag: str = "",
        parameters: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        command: str | None = None,
        image: str | None = None,
        requirements: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise GraphError(
                f"ServingFunction {name!r} got unknown arguments {sorted(kwargs)}; accepted: "
                "name, project, tag, parameters, env, command, image, requirements"
            )
        self.name = name
        self.project = project
        self.tag = tag
        self.spec = ServingSpec(parameters=dict(parameters or {}), env=dict(env or {}))
        self.status_address: str | None = None
        self._mock_server: MockServer | None = None
        self.with_build(image=image, requirements=requirements)
        if command:
            self.with_code(from_file=command)

    def __repr__(self) -> str:
        return f"ServingFunction({self.uri!r})"

    @property
    def uri(self) -> str:
        """``project/name:tag`` (parts omitted when empty)."""
        uri = f"{self.project}/{self.name}" if self.project else self.name
        return f"{uri}:{self.tag}" if self.tag else uri

    # -- graph ---------------------------------------------------------------
    def set_topology(
        self,
        topology: str | None = None,
        class_name: Any = None,
        engine: str | None = None,
        exist_ok: bool = False,
        **class_args: Any,
    ) -> RootFlowStep | RouterStep:
        """Create the graph root: ``"router"`` (default) or ``"flow"``; returns it.

        ``fn.set_topology("router", VotingEnsemble(vote_type="regression"))`` takes
        a router class, name or instance; ``engine`` (flows) is ``"sync"`` or ``"async"``.
        A function that has a graph raises unless ``exist_ok=True``, which replaces
        it with a new, empty one (MLRun).
        """
        topology = topology or "router"
        if topology not in TOPOLOGIES:
            raise GraphError(
                f"The 'topology' parameter of set_topology must be 'router' or 'flow'. "
                f"Got {topology!r} instead."
            )
        current = self.spec.graph
        if current is not None and not exist_ok:
            raise GraphError(
                f"function {self.name!r} already has a {type(current).__name__} graph; "
                "pass exist_ok=True to replace it"
            )
        graph: RootFlowStep | RouterStep
        if topology == "flow":
            if class_name is not None or class_args:
                raise GraphError(
                    f"set_topology('flow') takes no class_name or class arguments. "
                    f"Got {class_name!r}, {sorted(class_args)} instead."
                )
            graph = RootFlowStep(engine=engine or "async")
        else:
            if engine is not None and engine != "sync":
                raise GraphError(
                    f"The 'engine' of a router topology must be 'sync' or None. Got {engine!r}."
                )
            graph = RouterStep(class_name=class_name, class_args=class_args)
        self.spec.graph = graph
        return graph

    def add_model(
        self,
        key: str,
        model_path: str | None = None,
        class_name: Any = None,
        model_url: str | None = None,
        handler: str | None = None,
        router_step: str | None = None,
        child_function: str | None = None,
        **class_args: Any,
    ) -> Any:
        """Add a model route (``key`` may be ``"name:version"``) to the router; returns it.

        In a flow, ``router_step`` names the router (optional when there is only one).
        """
        if not key or not isinstance(key, str):
            raise GraphError(f"The 'key' parameter of add_model must be a model name. Got {key!r}.")
        if model_url is not None:
            raise GraphError(
                f"add_model({key!r}): remote models ('model_url') are not supported; "
                "add a step that calls the URL instead"
            )
        if class_name is None and handler is None:
            raise GraphError(
                f"add_model({key!r}) needs a class_name (e.g. a V2ModelServer subclass)"
            )
        graph = self.spec.graph if self.spec.graph is not None else self.set_topology("router")
        router = self._router(graph, router_step, key)
        if model_path is not None:
            if class_name is not None and not isinstance(class_name, str | type):
                # a model instance built without a path takes this one (MLRun)
                if getattr(class_name, "model_path", None) is None:
                    class_name.model_path = str(model_path)
            else:
                class_args["model_path"] = str(model_path)
        return router.add_route(
            key, class_name=class_name, handler=handler, function=child_function, **class_args
        )

    def _router(self, graph: Any, router_step: str | None, key: str) -> RouterStep:
        if isinstance(graph, RouterStep):
            return graph
        routers = {name: step for name, step in graph.steps.items() if isinstance(step, RouterStep)}
        if router_step is not None:
            step = graph[router_step]
            if not isinstance(step, RouterStep):
                raise GraphError(
                    f"add_model({key!r}): step {router_step!r} is a {type(step).__name__}, "
                    "not a router"
                )
            return step
        if len(routers) != 1:
            raise GraphError(
                f"add_model({key!r}): the flow has {len(routers)} routers {sorted(routers)}; "
                "name one with router_step="
            )
        return next(iter(routers.values()))

    def add_trigger(self, name: str, spec: Any) -> ServingFunction:
        """Add a Nuclio trigger: a trigger dict, an object with ``to_dict()``, or a stream URL.

        A stream URL (``kafka://broker:9092/topic``) becomes the trigger that reads
        what ``servegraph serve SPEC --source URL`` reads (same topic and group)::

            fn.add_trigger("requests", "kafka://broker:9092/requests")
            fn.add_trigger("nightly", {"kind": "cron", "attributes": {"schedule": "0 2 * * *"}})
        """
        from servegraph.serving.nuclio_spec import trigger_section

        self.spec.triggers[name] = trigger_section(name, spec, self.name)
        return self

    # -- spec ------------------------------------------------------------------
    def serving_spec(
        self, with_tracking: bool = True, graph_as_dict: bool = True
    ) -> dict[str, Any]:
        """The serving spec the server reads (``SERVING_SPEC_ENV`` in Nuclio)."""
        graph = self._graph()
        spec: dict[str, Any] = {
            "version": "v2",
            "parameters": dict(self.spec.parameters),
            "graph": graph.to_dict() if graph_as_dict else graph,
            "load_mode": self.spec.load_mode,
            "verbose": self.spec.verbose,
            "function_uri": self.uri,
        }
        if with_tracking and self.spec.tracking:
            spec["tracking"] = dict(self.spec.tracking)
        return spec

    def _graph(self) -> RootFlowStep | RouterStep:
        if self.spec.graph is None:
            raise GraphError(f"function {self.name!r} has no graph; call set_topology() first")
        return self.spec.graph

    def to_dict(self) -> dict[str, Any]:
        """The function as a plain dict (metadata/spec)."""
        spec: dict[str, Any] = {
            "graph": self.spec.graph.to_dict() if self.spec.graph is not None else None,
            "parameters": dict(self.spec.parameters),
            "env": dict(self.spec.env),
            "load_mode": self.spec.load_mode,
            "verbose": self.spec.verbose,
        }
        if self.spec.tracking:
            spec["tracking"] = dict(self.spec.tracking)
        keys = ("http", "resources", "triggers", "build", "code_module", "image", "function_refs")
        for key in keys:
            if getattr(self.spec, key):
                spec[key] = copy.deepcopy(getattr(self.spec, key))
        return {
            "kind": self.kind,
            "metadata": {"name": self.name, "project": self.project, "tag": self.tag},
            "spec": spec,
        }

    @classmethod
    def from_dict(cls, struct: Mapping[str, Any]) -> ServingFunction:
        """Rebuild a function from ``to_dict()`` output."""
        metadata = struct.get("metadata") or {}
        spec = struct.get("spec") or {}
        fn = cls(
            name=metadata.get("name", ""),
            project=metadata.get("project", ""),
            tag=metadata.get("tag", ""),
            parameters=spec.get("parameters"),
            env=spec.get("env"),
        )
        if spec.get("graph"):
            fn.spec.graph = graph_from_dict(spec["graph"])
        fn.spec.tracking = spec.get("tracking")
        fn.spec.triggers = {name: dict(t) for name, t in (spec.get("triggers") or {}).items()}
        fn.spec.load_mode = spec.get("load_mode", "sync")
        fn.spec.verbose = bool(spec.get("verbose", False))
        fn.spec.http = dict(spec.get("http") or {})
        fn.spec.resources = dict(spec.get("resources") or {})
        fn.spec.build = dict(spec.get("build") or {})
        fn.spec.code_module = spec.get("code_module")
        fn.spec.image = str(spec.get("image") or "")
        fn.spec.function_refs = {k: dict(v) for k, v in (spec.get("function_refs") or {}).items()}
        return fn

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The function as YAML text (written to ``path`` when given)."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    # -- running ----------------------------------------------------------------
    def to_server(self, namespace: Mapping[str, Any] | None = None, **app_args: Any) -> Any:
        """An aiohttp ``web.Application`` serving this function over HTTP (to embed or run).

        Class names resolve in the caller's globals unless ``namespace`` is given,
        then in the attached code;
        ``app_args`` go to ``servegraph.serving.http.create_app`` (``max_body_size``)::

            web.run_app(fn.to_server(), port=8080)
        """
        from servegraph.serving.http import create_app
        from servegraph.serving.server import GraphServer

        namespace = self.code_namespace(caller_globals() if namespace is None else namespace)
        server = GraphServer(self.serving_spec(graph_as_dict=False))
        server.init_states(namespace=namespace)
        return create_app(server, **app_args)

    def to_mock_server(
        self,
        namespace: Mapping[str, Any] | None = None,
        current_function: str | None = None,
        track_models: bool = False,
        **kwargs: Any,
    ) -> MockServer:
        """An in-process server for tests; names resolve in the caller's globals, then
        in the attached code (imported here).

        ``track_models`` enables the function's tracking (off by default in the mock).
        ``kwargs`` override spec fields (``parameters``, ``load_mode``, ``verbose``).
        """
        namespace = self.code_namespace(caller_globals() if namespace is None else namespace)
        spec = self.serving_spec(with_tracking=track_models, graph_as_dict=False)
        unknown = set(kwargs) - {"parameters", "load_mode", "verbose"}
        if unknown:
            raise GraphError(f"to_mock_server() got unknown arguments {sorted(unknown)}")
        spec.update(kwargs)
        return create_mock_server(
            spec,
            name=self.name,
            project=self.project,
            namespace=namespace,
            current_function=current_function,
        )

    def invoke(
        self,
        path: str = "/",
        body: Any = None,
        method: str | None = None,
        headers: Mapping[str, Any] | None = None,
        mock: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send a request to the deployed function (mock deployments run in-process).

        ``mock=True`` runs it in-process even when not deployed so, ``mock=False``
        only over HTTP; by default a mock deployment, else the deployed address,
        else ``servegraph.mlconf.mock_nuclio_deployment`` decides.
        """
        from servegraph.config import mlconf

        if mock is False:
            if not self.status_address:
                raise DeployError(f"function {self.name!r} has no deployed address to invoke")
        elif self._mock_server is None and (
            mock or (not self.status_address and mlconf.use_mock(None))
        ):
            self._set_as_mock(True)
        if self._mock_server is None or mock is False:
            if self.status_address:  # deployed (locally or to Nuclio): over HTTP
                from servegraph.functions.platform.local import http_invoke

                return http_invoke(self.status_address, path, body, method, headers, **kwargs)
            raise DeployError(
                f"function {self.name!r} is not deployed; call fn.deploy(local=True) "
                "or deploy_function(fn, mock=True)"
            )
        return self._mock_server.test(path, body, method or "", headers, **kwargs)

    def _set_as_mock(self, enable: bool) -> None:
        """Run the function in-process from now on (``True``) or stop doing so (MLRun)."""
        if not enable:
            if self._mock_server is not None:
                self._mock_server.wait_for_completion()
            self._mock_server = None
        elif self._mock_server is None:
            self._mock_server = self.to_mock_server()

    def save(self, tag: str = "latest") -> str:
        """Store this version (hash of its dict form) in the run database, tagged
        ``latest`` (and ``tag``); ``servegraph ui`` draws its graph. Returns the hash."""
        import hashlib
        import json

        from servegraph.storage.rundb import get_run_db

        if not self.name:
            raise GraphError("A serving function needs a 'name' to be saved. Got ''.")
        body = self.to_dict()
        digest = hashlib.sha1(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        tags = ("latest",) if tag == "latest" else ("latest", tag)
        get_run_db().store_function(body, self.name, digest, self.project, tags)
        return digest
