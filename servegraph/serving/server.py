"""GraphServer: builds the graph from a serving spec and serves events through an engine.

    server = GraphServer({"graph": graph.to_dict(), "parameters": {}})
    server.init_states(namespace=globals())
    response = server.run(Event(body={"inputs": [[1, 2]]}, path="/v2/models/m/infer"))
    await server.close()

``run`` / ``run_async`` return a :class:`Response` and raise ServegraphError
subclasses (with ``status_code``) on failure; the HTTP edge turns them into
``{"error": "..."}``. ``GET /`` goes through the graph, as in MLRun: a router
answers its health metadata, a model step its model metadata.
"""

from __future__ import annotations

import enum
import importlib
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from servegraph.errors import BadRequestError, GraphError, NotReadyError, StepError
from servegraph.graph.validate import validate_step
from servegraph.serving.body import decode_event_body, raw_body_type, unsupported_body
from servegraph.serving.context import GraphContext
from servegraph.serving.engine_async import run_async as _engine_async
from servegraph.serving.engine_sync import run_sync as _engine_sync
from servegraph.serving.event import Event, Response
from servegraph.serving.plan import Plan, compile_graph
from servegraph.serving.sync_bridge import run_coroutine
from servegraph.tracing import get_tracer, request_span

if TYPE_CHECKING:
    from servegraph.serving.repository import ModelRepository


class ServerState(enum.Enum):
    """Lifecycle of a GraphServer."""

    NEW = "new"
    READY = "ready"
    STARTED = "started"
    CLOSED = "closed"


class GraphServer:
    """Serves a graph described by a serving spec.

    Parameters (each also read from ``spec``, a dict with the same keys):
        graph: the root step (flow or router), as a step object or its dict form.
        parameters: values for ``context.get_param``.
        load_mode: ``"sync"`` (load models at init) or ``"async"`` (in the background).
        verbose: log each event.
        function_uri: ``project/name:tag`` of the function served.
        tracking: ``{"class": "module:Class", ...}`` model-tracking sink, or None.
    """

    def __init__(
        self,
        spec: Mapping[str, Any] | None = None,
        *,
        graph: Any = None,
        parameters: Mapping[str, Any] | None = None,
        load_mode: str | None = None,
        verbose: bool | None = None,
        function_uri: str | None = None,
        tracking: Mapping[str, Any] | None = None,
        version: str | None = None,
    ) -> None:
        spec = dict(spec or {})
        self.version = version or spec.get("version") or "v2"
        self.graph = _load_graph(graph if graph is not None else spec.get("graph"))
        self.parameters: dict[str, Any] = dict(
            parameters if parameters is not None else spec.get("parameters") or {}
        )
        self.load_mode = load_mode or spec.get("load_mode") or "sync"
        if self.load_mode not in ("sync", "async"):
            raise GraphError(
                f"The 'load_mode' of the serving spec must be 'sync' or 'async'. "
                f"Got {self.load_mode!r} instead."
            )
        self.verbose = bool(verbose if verbose is not None else spec.get("verbose", False))
        self.function_uri = function_uri or spec.get("function_uri") or ""
        self.tracking: dict[str, Any] | None = (
            dict(tracking) if tracking is not None else spec.get("tracking")
        )
        # a graph cut into functions at its queues: the one served here (see serving.split)
        self.current_function: str | None = spec.get("current_function")
        self.root_function: str | None = spec.get("root_function")
        self.stream_source: str | None = spec.get("stream_source")  # what a child function reads
        self.context: GraphContext = GraphContext(parameters=self.parameters, server=self)
        self.plan: Plan | None = None
        self.state = ServerState.NEW
        from servegraph.graph import FlowStep

        default_engine = "async" if isinstance(self.graph, FlowStep) else "sync"
        self.engine: str = getattr(self.graph, "engine", None) or default_engine
        self._async = self.engine == "async"
        self._timed = False
        self._tracer: Any = None
        self._loop_free = False

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> GraphServer:
        """Build a server from a serving spec dict."""
        return cls(spec)

    def to_dict(self) -> dict[str, Any]:
        """The serving spec of this server."""
        spec: dict[str, Any] = {
            "version": self.version,
            "parameters": self.parameters,
            "graph": self.graph.to_dict(),
            "load_mode": self.load_mode,
            "verbose": self.verbose,
            "function_uri": self.function_uri,
        }
        if self.tracking:
            spec["tracking"] = dict(self.tracking)
        if self.current_function is not None:
            spec["current_function"] = self.current_function
            spec["root_function"] = self.root_function
        if self.stream_source:
            spec["stream_source"] = self.stream_source
        return spec

    # -- lifecycle -----------------------------------------------------------
    def init_states(
        self, context: GraphContext | None = None, namespace: Mapping[str, Any] | None = None
    ) -> None:
        """Resolve the tracker, construct every step object and compile the plan."""
        if context is not None:
            context.server = self
            if not context.parameters:
                context.parameters = self.parameters
            self.context = context
        ctx = self.context
        if not ctx.name and self.function_uri:
            ctx.name = self.function_uri.split("/")[-1].split(":")[0]
        if not ctx.project and "/" in self.function_uri:
            ctx.project = self.function_uri.split("/")[0]
        ctx.verbose = self.verbose
        ctx.root = self.graph
        if self.current_function is not None:  # served as one function of a split graph
            ctx.current_function = self.current_function
            ctx.root_function = self.root_function
        validate_step(self.graph)
        if self.tracking and ctx.tracker is None:
            ctx.tracker = _make_tracker(self.tracking, ctx)
        self.plan = compile_graph(self.graph, ctx, namespace, self.load_mode)
        if any(node.arun is not None for node in self.plan.nodes):
            self._async = True  # async steps (e.g. batching models) need the async engine
        # run_async walks a graph with step timeouts on the async engine: the sync one
        # would block the event loop (every other request) while a timed step runs
        self._timed = any(node.timeout is not None for node in self.plan.nodes)
        self._tracer = get_tracer()
        if self._tracer is not None:
            from servegraph.serving.traced import instrument_plan

            instrument_plan(self.plan, self._tracer)
            # traced entry points on this instance only: without tracing, no check per request
            self.run_async = self._run_async_traced  # type: ignore[method-assign]
            self.run = self._run_traced  # type: ignore[method-assign]
        # nothing to await anywhere: sync callers (test()) walk it on the sync engine, with
        # the same results, instead of handing each event to the background loop's thread
        self._loop_free = not self._timed and all(node.arun is None for node in self.plan.nodes)
        self.state = ServerState.READY

    async def start(self) -> None:
        """Start the tracker (called once, before the first event)."""
        if self.state is ServerState.NEW:
            raise NotReadyError("the server is not initialised; call init_states() first")
        if self.state is ServerState.READY:
            self.state = ServerState.STARTED
            tracker = self.context.tracker
            if tracker is not None:
                await tracker.start()

    async def close(self) -> None:
        """Run the steps' close hooks and flush the tracker.

        Every hook runs even when one fails; the first failure is then raised
        as a StepError naming its step.
        """
        if self.state is ServerState.CLOSED:
            return
        self.state = ServerState.CLOSED
        failed: StepError | None = None
        for obj in self.plan.objects() if self.plan is not None else []:
            close = getattr(obj, "close", None)
            if callable(close):
                try:  # one failing hook must not skip the others nor the tracker flush
                    result = close()
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:
                    name = str(getattr(obj, "name", None) or type(obj).__name__)
                    self.context.logger.error("close hook of step %r failed: %s", name, exc)
                    failed = failed or StepError(name, f"close hook: {type(exc).__name__}: {exc}")
        tracker = self.context.tracker
        if tracker is not None:
            await tracker.close()
        if failed is not None:
            raise failed

    # -- serving ---------------------------------------------------------------
    async def run_async(self, event: Event) -> Response:
        """Serve one event; raise a ServegraphError subclass on failure."""
        if self.state is not ServerState.STARTED:
            await self._ensure_started()
        prepared = self._prepare(event)
        if prepared is not None:
            return prepared
        assert self.plan is not None
        raw_type = raw_body_type(event)
        try:
            if self._async or self._timed:
                result = await _engine_async(self.plan, event)
            else:
                result = _engine_sync(self.plan, event)
        except (StepError, BadRequestError) as exc:
            error = unsupported_body(raw_type, exc)
            if error is exc:
                raise
            raise error from exc
        return _response(result)

    def run(self, event: Event) -> Response:
        """Serve one event from sync code (an async graph runs on the server's own loop)."""
        if self.state is not ServerState.STARTED:
            self._start_sync()
        if self._async and not self._loop_free:
            return self._loop_run(self.run_async(event))  # type: ignore[no-any-return]
        prepared = self._prepare(event)
        if prepared is not None:
            return prepared
        assert self.plan is not None
        raw_type = raw_body_type(event)
        try:
            return _response(_engine_sync(self.plan, event))
        except (StepError, BadRequestError) as exc:
            error = unsupported_body(raw_type, exc)
            if error is exc:
                raise
            raise error from exc

    async def _run_async_traced(self, event: Event) -> Response:
        with request_span(self._tracer, event, self.context.name):
            return await GraphServer.run_async(self, event)

    def _run_traced(self, event: Event) -> Response:
        if self._async and not self._loop_free:  # traced by run_async on the server's loop
            return GraphServer.run(self, event)
        with request_span(self._tracer, event, self.context.name):
            return GraphServer.run(self, event)

    def _prepare(self, event: Event) -> Response | None:
        body = event.body
        if type(body) is bytes or type(body) is str:
            decode_event_body(event)
        if self.verbose:
            self.context.logger.info("event %s %s %s", event.id, event.method, event.path)
        return None

    # -- live model versions (the V2 model-repository extension) ---------------
    @property
    def repository(self) -> ModelRepository:
        """The model versions of this server: load, unload, index (created on first use)."""
        repo: ModelRepository | None = self.__dict__.get("_repository")
        if repo is None:
            if self.plan is None:
                raise NotReadyError("the server is not initialised; call init_states() first")
            from servegraph.serving.repository import ModelRepository

            repo = self._repository = ModelRepository(self)
        return repo

    def load_model(
        self, name: str, model_path: str | None = None, version: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Load a version of model ``name`` and swap it in without a restart (blocking).

        ``kwargs``: ``class_name``, ``default``, ``keep_previous``, ``canary``
        (see :meth:`ModelRepository.load`).

        >>> server.load_model("fraud", "store://models/shop/fraud:v2", "v2")  # doctest: +SKIP
        """
        return self.repository.load(name, model_path, version, **kwargs)

    def unload_model(self, name: str, version: str | None = None) -> dict[str, Any]:
        """Stop serving model ``name`` (one version or all), after its in-flight requests."""
        return self.repository.unload(name, version)

    def loading_models(self) -> list[str]:
        """Names of the models still loading in the background (``load_mode="async"``)."""
        if self.plan is None:
            return []
        return sorted(o.name for o in self.plan.objects() if getattr(o, "ready", True) is False)

    async def _ensure_started(self) -> None:
        if self.state is ServerState.CLOSED:
            raise NotReadyError("the server is closed")
        await self.start()

    def _start_sync(self) -> None:
        if self.state is ServerState.READY and self.context.tracker is None:
            self.state = ServerState.STARTED
        else:
            self._loop_run(self._ensure_started())

    def _loop_run(self, coro: Any) -> Any:
        """Run a coroutine of this server from sync code (on the shared background loop)."""
        return run_coroutine(coro)

    def __repr__(self) -> str:
        return (
            f"GraphServer(name={self.context.name!r}, engine={self.engine!r}, "
            f"state={self.state.value})"
        )


class BodyResponse(Response):
    """A response the server made around a step's plain body (a step may return its
    own :class:`Response`; the mock server hands that one back whole, as MLRun does)."""

    __slots__ = ()


def _response(event: Event) -> Response:
    body = event.body
    if isinstance(body, Response):
        return body
    if isinstance(body, dict | list):
        return BodyResponse(body, 200, "application/json")
    if isinstance(body, str):
        return BodyResponse(body, 200, "text/plain")
    return BodyResponse(body, 200, None)  # the HTTP edge picks the content type


def _load_graph(graph: Any) -> Any:
    if graph is None:
        raise GraphError("The serving spec has no 'graph'")
    if isinstance(graph, Mapping):
        from servegraph.graph.serialize import graph_from_dict

        return graph_from_dict(dict(graph))
    return graph


def _make_tracker(tracking: Mapping[str, Any], context: GraphContext) -> Any:
    from servegraph.graph.resolve import construct

    target = tracking.get("class")
    if not isinstance(target, str) or ":" not in target:
        raise GraphError(
            "The 'class' of spec['tracking'] must be a 'module:Class' string. "
            f"Got {target!r} instead."
        )
    module_path, _, class_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_path), class_name)
    except (ImportError, AttributeError) as exc:
        raise GraphError(f"cannot load the tracker class {target!r}: {exc}") from exc
    args = {k: v for k, v in tracking.items() if k != "class" and v is not None}
    return construct(cls, args, context=context)
