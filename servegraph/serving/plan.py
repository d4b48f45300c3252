"""Compile a graph once into a flat execution plan that both engines walk.

Every step becomes a :class:`Node` holding a ready-made sync runner
(``run(event) -> event``) and, for coroutine steps, an async runner; its
outlets, inlet count (merges), timeout and nearest error handler are resolved
here so the engines do no lookups, copies or introspection per event.

    plan = compile_graph(graph, context, namespace=globals())
    event = run_sync(plan, Event(body=1))
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from servegraph.errors import GraphError
from servegraph.graph import FlowStep, QueueStep, RouterStep, TaskStep
from servegraph.graph.calling import step_method
from servegraph.graph.init_args import init_args, own_name
from servegraph.graph.resolve import construct, resolve_class, resolve_handler
from servegraph.graph.topology import topological_order
from servegraph.serving.base import EventRunner, Route
from servegraph.serving.event import Event
from servegraph.serving.isolation import DEFAULT_MAX_IN_FLIGHT, DEFAULT_WORKERS
from servegraph.serving.paths import split_path
from servegraph.serving.runners import (
    AsyncRunner,
    accepts_context,
    passthrough,
    post_init,
    step_timeout,
    sync_of,
    wrap,
)
from servegraph.serving.split import SeenIds, envelope, function_steps
from servegraph.tracing import inject_record


class Node:
    """One compiled step."""

    __slots__ = (
        "arun",
        "body_fn",
        "index",
        "n_inlets",
        "name",
        "object",
        "on_error",
        "outlets",
        "run",
        "timeout",
    )

    def __init__(self, name: str, run: EventRunner, arun: AsyncRunner | None, obj: Any) -> None:
        self.name = name
        self.run = run
        self.arun = arun
        self.object = obj
        self.index = 0
        self.timeout: float | None = None
        self.outlets: tuple[Node, ...] = ()
        self.n_inlets = 0
        self.on_error: Plan | None = None
        # the step's plain ``do(body)`` when it is a sync body step without paths
        self.body_fn: Callable[[Any], Any] | None = getattr(run, "body_fn", None)

    def __repr__(self) -> str:
        return f"Node({self.name!r})"


class Plan:
    """A compiled (sub)graph: nodes, start nodes, the node whose output is the result.

    ``chain`` is set when the plan is a straight line without timeouts or merges
    whose result is its last node; the engines walk it with a plain loop.
    """

    def __init__(self, nodes: list[Node], starts: list[Node], result: Node | None) -> None:
        self.nodes = tuple(nodes)
        self.starts = tuple(starts)
        self.result = result
        self.has_merge = any(node.n_inlets > 1 for node in nodes)
        self.chain: tuple[Node, ...] | None = None
        linear = len(starts) <= 1 and all(
            len(node.outlets) <= 1
            and node.n_inlets <= 1
            and node.timeout is None
            and not getattr(node.object, "drops_events", False)  # may end the walk (Merge)
            for node in nodes
        )
        if linear and (not nodes or result is nodes[-1]):
            self.chain = self.nodes
        # a chain of plain body steps runs as ``body = fn(body)`` calls, one per step
        self.body_chain: tuple[Callable[[Any], Any], ...] | None = None
        if self.chain and all(node.body_fn is not None for node in self.chain):
            self.body_chain = tuple(node.body_fn for node in self.chain)  # type: ignore[misc]

    def objects(self) -> list[Any]:
        """The step objects (class instances) of the plan and its error handlers."""
        seen: dict[int, Any] = {}
        for node in self.nodes:
            if node.object is not None:
                seen[id(node.object)] = node.object
                for route in getattr(node.object, "routes", {}).values():
                    if isinstance(route, Route) and route.object is not None:
                        seen[id(route.object)] = route.object
            if node.on_error is not None:
                for obj in node.on_error.objects():
                    seen[id(obj)] = obj
        return list(seen.values())


def compile_graph(
    graph: Any,
    context: Any,
    namespace: Mapping[str, Any] | None = None,
    load_mode: str = "sync",
) -> Plan:
    """Build the plan of a root flow or router step, constructing every step object."""
    return _Compiler(context, namespace, load_mode).compile_root(graph)


class _Compiler:
    def __init__(self, context: Any, namespace: Mapping[str, Any] | None, load_mode: str) -> None:
        self.context = context
        self.namespace = dict(namespace) if namespace is not None else None
        self.load_mode = load_mode or "sync"
        self.built: dict[int, tuple[EventRunner, AsyncRunner | None, Any]] = {}
        self.error_handlers: set[int] = set()

    # -- graph structure ---------------------------------------------------
    def compile_root(self, graph: Any) -> Plan:
        if isinstance(graph, FlowStep):
            return self.compile_flow(graph)
        node = self.node(graph, getattr(graph, "name", None) or "router")
        return Plan([node], [node], node)

    def compile_flow(self, flow: Any) -> Plan:
        steps: dict[str, Any] = dict(flow.steps)
        current = getattr(self.context, "current_function", None)
        if current not in (None, "*") and getattr(flow, "parent", None) is None:
            root = getattr(self.context, "root_function", None) or self.context.name
            steps = function_steps(steps, current, root)  # served as one of the functions
        handlers = {s.on_error for s in steps.values() if getattr(s, "on_error", None)}
        flow_handler = getattr(flow, "on_error", None)
        if current not in (None, "*"):
            handlers &= set(steps)  # an error path in another function is not ours
            flow_handler = flow_handler if flow_handler in steps else None
        if flow_handler:
            handlers.add(flow_handler)
        for handler in handlers:
            if handler not in steps:
                raise GraphError(f"error handler {handler!r} is not a step of the graph")
            self.error_handlers.add(id(steps[handler]))
        starts = [
            name for name, s in steps.items() if not list(s.after or []) and name not in handlers
        ]
        plan = self._subplan(flow, steps, starts, handlers)
        cache: dict[str, Plan] = {}

        def handler_plan(name: str) -> Plan:
            if name not in cache:
                cache[name] = self._subplan(flow, steps, [name], set())
            return cache[name]

        for node in plan.nodes:
            step = steps[node.name]
            handler = getattr(step, "on_error", None) or flow_handler
            if handler:
                node.on_error = handler_plan(handler)
        return plan

    def _subplan(
        self, flow: Any, steps: dict[str, Any], starts: list[str], exclude: set[str]
    ) -> Plan:
        outlets: dict[str, list[str]] = {name: [] for name in steps}
        for name, step in steps.items():
            for parent in step.after or []:
                if parent not in steps:
                    raise GraphError(f"step {name!r} comes after unknown step {parent!r}")
                outlets[parent].append(name)
        reachable: list[str] = []
        todo = list(starts)
        while todo:
            name = todo.pop(0)
            if name in reachable:
                continue
            reachable.append(name)
            todo.extend(n for n in outlets[name] if n not in exclude)
        # edge order (after/before), not insertion order: ``add_step(before=...)`` runs first
        order = [name for name in topological_order(steps) if name in reachable]
        nodes = {name: self.node(steps[name], name) for name in order}
        for index, name in enumerate(order):
            node = nodes[name]
            node.index = index
            node.outlets = tuple(nodes[n] for n in outlets[name] if n in nodes)
            inlets = [p for p in steps[name].after or [] if p in nodes]
            node.n_inlets = len(inlets)
            set_inlets = getattr(node.object, "set_inlets", None)
            if callable(set_inlets):  # a Merge learns how many parts make a key
                set_inlets(len(inlets))
            node.timeout = step_timeout(steps[name])
        responders = [nodes[n] for n in order if getattr(steps[n], "responder", False)]
        final = getattr(flow, "final_step", None)
        leaves = [nodes[n] for n in order if not nodes[n].outlets]
        if responders:
            result: Node | None = responders[0]
        elif final in nodes:
            result = nodes[final]
        else:
            result = leaves[-1] if leaves else None
        return Plan(list(nodes.values()), [nodes[n] for n in starts], result)

    # -- one step --------------------------------------------------------------
    def node(self, step: Any, name: str) -> Node:
        key = id(step)
        if key not in self.built:
            self.built[key] = self.runners(step, name)
        run, arun, obj = self.built[key]
        return Node(name, run, arun, obj)

    def runners(self, step: Any, name: str) -> tuple[EventRunner, AsyncRunner | None, Any]:
        if isinstance(step, QueueStep):
            return self.queue(step, name)
        if isinstance(step, FlowStep):
            from servegraph.serving.engine_async import run_async
            from servegraph.serving.engine_sync import run_sync

            sub = self.compile_flow(step)
            return functools.partial(run_sync, sub), functools.partial(run_async, sub), None
        if isinstance(step, RouterStep):
            return self.router(step, name)
        if isinstance(step, TaskStep):
            run, arun, obj = self.task(step, name)
            if arun is None:
                arun = self.guarded(run, obj, step, name)
            return run, arun, obj
        raise GraphError(f"step {name!r} has an unknown kind {type(step).__name__}")

    def instance(
        self, class_name: Any, class_args: Mapping[str, Any] | None, name: str | None
    ) -> Any:
        if isinstance(class_name, str | type):
            cls = resolve_class(class_name, self.namespace)
            return construct(
                cls,
                dict(class_args or {}),
                context=self.context,
                name=name,
                namespace=self.namespace,
            )
        obj = class_name
        if class_args:
            # arguments set on the step override the instance's (as MLRun, which keeps only
            # the instance's dict form): build the object its dict form describes
            args = {**own_name(obj, name), **init_args(obj), **class_args}
            return construct(
                type(obj), args, context=self.context, name=name, namespace=self.namespace
            )
        if getattr(obj, "context", False) is None:
            obj.context = self.context
        return obj

    def task(self, step: Any, name: str) -> tuple[EventRunner, AsyncRunner | None, Any]:
        obj = None
        full_event = getattr(step, "full_event", None)
        # an error handler gets the whole event (error, origin_state) unless told otherwise
        full = bool(full_event) if full_event is not None else id(step) in self.error_handlers
        if step.class_name is not None:
            obj = self.instance(step.class_name, step.class_args, name)
            method, takes_event = step_method(obj, step.handler, f"step {name!r}")
            full = full or takes_event
            post_init(obj, self.load_mode)
        elif step.handler is not None:
            method = resolve_handler(step.handler, self.namespace)
            if not getattr(step, "skip_context", None) and accepts_context(method):
                method = functools.partial(method, context=self.context)
        else:
            raise GraphError(f"step {name!r} has neither a class_name nor a handler")
        input_path = split_path(getattr(step, "input_path", None))
        result_path = split_path(getattr(step, "result_path", None))
        if getattr(obj, "drops_events", False) and full and not (input_path or result_path):
            return method, None, obj  # its None ends the branch (a Merge holding a part)
        return wrap(method, full, input_path, result_path, obj)

    def router(self, step: Any, name: str) -> tuple[EventRunner, AsyncRunner | None, Any]:
        from servegraph.serving.routers import BaseModelRouter, ModelRouter, VotingEnsemble
        from servegraph.serving.v2_serving import V2ModelServer

        _ROUTER_DO_EVENTS = (BaseModelRouter.do_event, VotingEnsemble.do_event)

        class_name = step.class_name if step.class_name is not None else ModelRouter
        # a router without a step name keeps its class default ("router", "VotingEnsemble")
        obj = self.instance(class_name, step.class_args, step.name)
        if not hasattr(obj, "do_event"):
            raise GraphError(f"router {name!r}: {type(obj).__name__} has no do_event() method")
        routes: dict[str, Route] = {}
        dispatches = type(obj).do_event is BaseModelRouter.do_event  # routes awaited one by one
        guarded = False
        for key, route_step in (step.routes or {}).items():
            run, arun, route_obj = self.task(route_step, key)
            if (
                arun is None
                and getattr(type(route_obj), "do_event", None) is V2ModelServer.do_event
            ):
                run = route_obj.do_event  # always returns the event: no wrapper needed
            if arun is None and dispatches:
                arun = self.guarded(run, route_obj, route_step, key)
                guarded = guarded or arun is not None
            routes[key] = Route(key, route_obj, run, arun)
        obj.routes = routes
        post_init(obj, self.load_mode)
        # the router sees the body at input_path; its answer goes to result_path (MLRun)
        input_path = split_path(getattr(step, "input_path", None))
        result_path = split_path(getattr(step, "result_path", None))
        if guarded and all(
            r.arun is None or getattr(r.object, "_guard", None) for r in routes.values()
        ):
            # sync engine: the plain dispatch; async engine: each model on its own threads
            sync_run = (
                wrap(obj.do_event, True, input_path, result_path, obj)[0]
                if input_path or result_path
                else obj.do_event
            )
            return sync_run, wrap(obj.do_event_async, True, input_path, result_path, obj)[1], obj
        if any(route.arun is not None for route in routes.values()):
            do_async = getattr(obj, "do_event_async", None)
            if do_async is None:
                raise GraphError(
                    f"router {name!r} ({type(obj).__name__}) cannot run async routes "
                    f"{sorted(k for k, r in routes.items() if r.arun is not None)}"
                )
            return wrap(do_async, True, input_path, result_path, obj)
        if (
            isinstance(obj, BaseModelRouter)
            and type(obj).do_event in _ROUTER_DO_EVENTS
            and not (input_path or result_path)
        ):
            return obj.do_event, None, obj  # built-in routers always return the event
        return wrap(obj.do_event, True, input_path, result_path, obj)

    def guarded(self, run: EventRunner, obj: Any, step: Any, name: str) -> AsyncRunner | None:
        """The async runner of a sync model step on its own executor (see isolation.py);
        None for other steps, models declaring ``blocking = False`` and the mock server."""
        from servegraph.serving.isolation import ModelGuard
        from servegraph.serving.v2_serving import V2ModelServer

        if not isinstance(obj, V2ModelServer) or getattr(self.context, "is_mock", False):
            return None
        if not getattr(obj, "blocking", True) or obj._batcher is not None:
            return None
        guard = obj._guard = ModelGuard(
            name,
            workers=obj.get_param("model_workers", DEFAULT_WORKERS),
            max_in_flight=obj.get_param("max_in_flight", DEFAULT_MAX_IN_FLIGHT),
            timeout=step_timeout(step),
        )

        async def arun(event: Event) -> Event:
            # on a copy: a call that outlives its timeout must not change the event
            return await guard.run(run, event.copy())

        return arun

    def queue(self, step: Any, name: str) -> tuple[EventRunner, AsyncRunner | None, Any]:
        path = getattr(step, "path", None)
        if not path:
            return passthrough, None, None  # an in-process queue (MLRun): no stream
        try:
            from servegraph.streams import get_stream, resolve_stream
        except ImportError as exc:
            raise GraphError(f"queue step {name!r}: streams are not available ({exc})") from exc
        stream = get_stream(resolve_stream(path))  # a bare name: the configured stream base
        pushed = SeenIds()

        async def arun(event: Event) -> Event:
            event_id = event.id
            if pushed.claim(event_id):  # a retried request (same id) is pushed once
                record = envelope(event_id, event.body, event.path)
                if event.trace is not None:  # tracing on
                    record = inject_record(record, event.trace)
                try:
                    await stream.push([record])
                except BaseException:
                    pushed.release(event_id, done=False)
                    raise
                pushed.release(event_id, done=True)
            return event

        return sync_of(arun), arun, stream
