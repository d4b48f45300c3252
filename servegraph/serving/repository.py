"""The model repository of a running server: load, unload and list model versions live.

    repo = server.repository
    repo.load("fraud", model_path="store://models/shop/fraud:v2", version="v2")
    repo.index()   # [{"name": "fraud", "version": "v2", "state": "READY", ...}, ...]

A new version is built and loaded off the serving path (in the caller's
thread, or a worker thread for :meth:`ModelRepository.load_async`), then the
router's route table is replaced by one that points at it: one reference
swap, so a request sees either the old table or the new one, never a
half-loaded model. Requests already running on the old version finish on it;
then the old version's close hooks run. Every loaded version answers on
``/v2/models/{name}/versions/{version}/...``; the default one (and a canary
split, see :mod:`servegraph.serving.canary`) on ``/v2/models/{name}/...``.

Models live in the graph's routers (``ModelRouter``, ``SplitRouter``, ...);
the first router that serves the name gets the new version (a new name goes
to the first router).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import threading
import time
from typing import Any

from servegraph.errors import GraphError, NotFoundError, ServegraphError
from servegraph.serving.base import Route
from servegraph.serving.canary import CanaryPolicy, SplitRoute
from servegraph.serving.route_table import (
    awaited,
    check_weights,
    class_args,
    close_call,
    default_object,
    default_route,
    split_key,
    version_of,
)
from servegraph.serving.version_stats import VersionStats

_WAIT_STEP = 0.005


class ModelRepository:
    """Versions of the models served by ``server`` (a GraphServer with a compiled plan)."""

    def __init__(self, server: Any, drain_timeout: float = 30.0) -> None:
        self.server = server
        self.drain_timeout = drain_timeout
        self.stats: dict[tuple[str, str], VersionStats] = {}
        self.failures: dict[tuple[str, str], str] = {}
        self.history: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        for router in self.routers():
            router.routes = {key: self._instrument(route) for key, route in router.routes.items()}

    # -- reading -------------------------------------------------------------
    def routers(self) -> list[Any]:
        """The router objects of the graph (steps holding a ``routes`` table)."""
        plan = getattr(self.server, "plan", None)
        if plan is None:
            return []
        found = []
        for node in plan.nodes:
            if isinstance(getattr(node.object, "routes", None), dict):
                found.append(node.object)
        return found

    def index(self) -> list[dict[str, Any]]:
        """Every loaded version (and every failed load) with its state, as the V2 index."""
        out: list[dict[str, Any]] = []
        for router in self.routers():
            for key, route in router.routes.items():
                if isinstance(route, SplitRoute):
                    continue
                name, version = split_key(key, route)
                if ":" not in key and f"{name}:{version}" in router.routes and version:
                    continue  # the default's versioned key lists it
                current = router.routes.get(name)
                is_default = default_route(router.routes, name) is route
                entry: dict[str, Any] = {
                    "name": name,
                    "version": version,
                    "state": "READY",
                    "reason": "",
                }
                entry.update(default=is_default, router=getattr(router, "name", ""))
                if isinstance(current, SplitRoute):
                    entry["weight"] = current.weight_of(route)
                out.append(entry)
        for (name, version), reason in self.failures.items():
            out.append({"name": name, "version": version, "state": "UNAVAILABLE", "reason": reason})
        return out

    def stats_of(self, name: str, version: str) -> VersionStats:
        """The request counters of one version (created on first use)."""
        key = (name, version)
        stats = self.stats.get(key)
        if stats is None:
            stats = self.stats[key] = VersionStats()
        return stats

    # -- loading -------------------------------------------------------------
    def load(
        self,
        name: str,
        model_path: str | None = None,
        version: str | None = None,
        *,
        class_name: Any = None,
        default: bool = True,
        keep_previous: bool = False,
        canary: CanaryPolicy | None = None,
    ) -> dict[str, Any]:
        """Build and load a version of ``name`` here (blocking), then swap it in.

        Parameters:
            name: the model name (``/v2/models/{name}``).
            model_path: where the new version's model is (``store://models/...``, a path or URL);
                default: the current version's.
            version: the version label; default ``"1"``, ``"2"``... per load.
            class_name: the model class of a new name (default: the current version's class).
            default: the new version answers ``/v2/models/{name}/...`` (else only its version path).
            keep_previous: keep the previous default loaded (on its version path).
            canary: send a share of ``/v2/models/{name}/...`` to the new version and let the
                policy promote or roll it back (see :class:`CanaryPolicy`).
        """
        router, route, key = self._prepare(name, model_path, version, class_name)
        self._swap(router, name, route, key, default, keep_previous, canary)
        return {"name": name, "version": key.partition(":")[2], "state": "READY"}

    async def load_async(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """:meth:`load`, building and loading in a worker thread (the loop keeps serving)."""
        model_path, version = kwargs.pop("model_path", None), kwargs.pop("version", None)
        class_name = kwargs.pop("class_name", None)
        router, route, key = await asyncio.to_thread(
            self._prepare, name, model_path, version, class_name
        )
        retired = self._swap(router, name, route, key, retire=False, **kwargs)
        for old in retired:
            await self._retire_async(old)
        return {"name": name, "version": key.partition(":")[2], "state": "READY"}

    def unload(self, name: str, version: str | None = None) -> dict[str, Any]:
        """Stop serving ``name`` (one version, or all); in-flight requests finish first."""
        retired = self._remove(name, version)
        for route in retired:
            self._retire(route)
        return {"name": name, "version": version or "", "state": "UNLOADED"}

    async def unload_async(self, name: str, version: str | None = None) -> dict[str, Any]:
        """:meth:`unload` that waits for in-flight requests without blocking the loop."""
        for route in self._remove(name, version):
            await self._retire_async(route)
        return {"name": name, "version": version or "", "state": "UNLOADED"}

    def promote(self, name: str, version: str) -> None:
        """Make ``version`` of ``name`` the default and retire the previous default."""
        router = self._router_of(name)
        route = router.routes.get(f"{name}:{version}")
        if route is None:
            raise NotFoundError(f"model {name!r} has no loaded version {version!r}")
        for old in self._swap(router, name, route, f"{name}:{version}", True, False, None, False):
            self._retire_later(old)
        self._record("promoted", name, version)

    def rollback(self, name: str, version: str) -> None:
        """Stop a canary: the stable version takes all the traffic, the canary is unloaded."""
        for old in self._remove(name, version):
            self._retire_later(old)
        self._record("rolled back", name, version)

    def set_weights(self, name: str, weights: dict[str, float]) -> None:
        """Change traffic weights live: of a SplitRouter (by route key) or of a model's versions."""
        for router in self.routers():
            if getattr(router, "name", None) == name and hasattr(router, "weights"):
                check_weights(name, weights)
                with self._lock:
                    old = router.weights
                    router.weights = dict(weights)
                    try:
                        router.post_init()
                    except GraphError:
                        router.weights = old
                        raise
                self._record("weights", name, "", weights=dict(weights))
                return
        router = self._router_of(name)
        check_weights(name, weights)
        with self._lock:
            routes = dict(router.routes)
            versions = {v: routes.get(f"{name}:{v}") for v in weights}
            missing = sorted(v for v, r in versions.items() if r is None)
            if missing:
                raise NotFoundError(f"model {name!r} has no loaded versions {missing}")
            split = SplitRoute(name, {v: (r, weights[v]) for v, r in versions.items() if r})
            routes[name] = split.single() or split
            router.routes = routes
        self._record("weights", name, "", weights=dict(weights))

    # -- internals -------------------------------------------------------------
    def _router_of(self, name: str) -> Any:
        routers = self.routers()
        if not routers:
            raise NotFoundError(
                "this graph has no model router: the repository loads models into routers"
            )
        for router in routers:
            if name in router.routes or any(k.startswith(name + ":") for k in router.routes):
                return router
        return routers[0]

    def _prepare(
        self, name: str, model_path: str | None, version: str | None, class_name: Any
    ) -> tuple[Any, Route, str]:
        if not name or ":" in name or "/" in name:
            raise GraphError(f"A model name must not be empty or hold ':' or '/'. Got {name!r}.")
        router = self._router_of(name)
        template = default_object(router, name)
        if template is None and class_name is None:
            raise NotFoundError(
                f"model {name!r} is not served yet: give 'class_name' (and 'model_path') to load it"
            )
        version = str(version) if version else str(next(self._counter))
        key = f"{name}:{version}"
        cls = class_name if class_name is not None else type(template)
        args = class_args(template) if template is not None and class_name is None else {}
        if model_path is not None:
            args["model_path"] = model_path
        try:
            route = self._build(cls, args, key)
        except ServegraphError as exc:
            self.failures[(name, version)] = str(exc)
            self._record("load failed", name, version, error=str(exc))
            raise
        except Exception as exc:
            self.failures[(name, version)] = f"{type(exc).__name__}: {exc}"
            self._record("load failed", name, version, error=str(exc))
            raise GraphError(f"cannot load version {version!r} of model {name!r}: {exc}") from exc
        self.failures.pop((name, version), None)
        return router, route, key

    def _build(self, cls: Any, args: dict[str, Any], key: str) -> Route:
        from servegraph.graph import TaskStep
        from servegraph.serving.plan import _Compiler
        from servegraph.serving.v2_serving import V2ModelServer

        compiler = _Compiler(self.server.context, None, "sync")
        run, arun, obj = compiler.task(TaskStep(class_name=cls, class_args=args, name=key), key)
        if getattr(obj, "ready", True) is False:
            raise GraphError(f"model {key!r} did not load: {getattr(obj, 'error', '')}")
        if arun is None and getattr(type(obj), "do_event", None) is V2ModelServer.do_event:
            run = obj.do_event
        return self._instrument(Route(key, obj, run, arun))

    def _instrument(self, route: Route) -> Route:
        if isinstance(route, SplitRoute) or getattr(route.run, "_versioned", False):
            return route
        name, version = split_key(route.name, route)
        stats = self.stats_of(name, version)
        return Route(route.name, route.object, stats.wrap(route.run), stats.wrap_async(route.arun))

    def _swap(
        self,
        router: Any,
        name: str,
        route: Route,
        key: str,
        default: bool = True,
        keep_previous: bool = False,
        canary: CanaryPolicy | None = None,
        retire: bool = True,
    ) -> list[Route]:
        version = key.partition(":")[2]
        with self._lock:
            routes = dict(router.routes)
            old_default = default_route(routes, name)
            replaced = routes.get(key)
            routes[key] = route
            retired: list[Route] = []
            if replaced is not None and replaced is not route:
                retired.append(replaced)
            if canary is not None and old_default is not None and old_default is not route:
                stable = version_of(old_default)
                routes[name] = SplitRoute(
                    name,
                    {stable: (old_default, 100 - canary.weight), version: (route, canary.weight)},
                    policy=canary,
                    on_decision=self._decide,
                )
            elif default:
                routes[name] = route
                if old_default is not None and old_default is not route:
                    old_key = next(
                        (k for k, r in routes.items() if r is old_default and ":" in k), ""
                    )
                    if not keep_previous or not old_key:
                        for k in [k for k, r in routes.items() if r is old_default]:
                            del routes[k]
                        retired.append(old_default)
            router.routes = routes
            self._refresh(router)
            retired = list({id(r): r for r in retired if r is not route}.values())
        self._record("loaded", name, version, canary=canary.weight if canary else None)
        if retire:
            for old in retired:
                self._retire(old)
        return retired

    def _remove(self, name: str, version: str | None) -> list[Route]:
        router = self._router_of(name)
        with self._lock:
            routes = dict(router.routes)
            if version:
                target = routes.get(f"{name}:{version}")
                if target is None:
                    raise NotFoundError(f"model {name!r} has no loaded version {version!r}")
                doomed = {k for k, r in routes.items() if r is target}
                current = routes.get(name)
                if isinstance(current, SplitRoute):
                    rest = current.without(target)
                    routes[name] = rest
                    doomed.discard(name)
                retired = [target]
            else:
                doomed = {k for k in routes if k == name or k.startswith(name + ":")}
                if not doomed:
                    raise NotFoundError(f"model {name!r} is not loaded")
                retired = list({id(routes[k]): routes[k] for k in doomed}.values())
                retired = [r for r in retired if not isinstance(r, SplitRoute)]
            for k in doomed:
                del routes[k]
            router.routes = routes
            self._refresh(router)
        self._record("unloaded", name, version or "")
        return retired

    def _refresh(self, router: Any) -> None:
        weights = getattr(router, "weights", None)
        if weights is not None and hasattr(router, "_cumulative"):
            router.weights = {k: w for k, w in weights.items() if k in router.routes} or None
            router.post_init()

    def _decide(self, split: SplitRoute, promote: bool, reason: str) -> None:
        canary = split.canary_version
        if promote:
            self.promote(split.name, canary)
        else:
            self.rollback(split.name, canary)
        self.history[-1]["reason"] = reason

    def _retire(self, route: Route) -> None:
        stats = self.stats_of(*split_key(route.name, route))
        deadline = time.monotonic() + self.drain_timeout
        while stats.in_flight > 0 and time.monotonic() < deadline:
            time.sleep(_WAIT_STEP)
        self._close(route)

    async def _retire_async(self, route: Route) -> None:
        stats = self.stats_of(*split_key(route.name, route))
        deadline = time.monotonic() + self.drain_timeout
        while stats.in_flight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(_WAIT_STEP)
        result = close_call(route)
        if inspect.isawaitable(result):
            await result

    def _retire_later(self, route: Route) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._retire(route)
            return
        task = loop.create_task(self._retire_async(route))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _close(self, route: Route) -> None:
        result = close_call(route)
        if inspect.isawaitable(result):
            from servegraph.serving.sync_bridge import run_coroutine

            run_coroutine(awaited(result))

    def _record(self, action: str, name: str, version: str, **extra: Any) -> None:
        entry = {"time": time.time(), "action": action, "name": name, "version": version}
        entry.update({k: v for k, v in extra.items() if v is not None})
        self.history.append(entry)


__all__ = ["ModelRepository"]
