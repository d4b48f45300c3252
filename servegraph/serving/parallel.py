"""ParallelRun: send the event to every route at once and merge their answers.

MLRun's router of the same name::

    fn.set_topology("router", ParallelRun(extend_event=True, executor_type="thread"))
    graph.add_route("a", class_name="Cls1")
    graph.add_route("b", handler="my_handler")
    server.test("", {"x": 8})   # {"x": 8, **a's answer, **b's answer}

Each route gets its own copy of the event; the answers (dicts) are merged in
route order by :meth:`ParallelRun.merger`, which subclasses may override.
"""

from __future__ import annotations

import asyncio
import copy
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from enum import StrEnum
from multiprocessing import get_context
from typing import Any

from servegraph.errors import BadRequestError, GraphError
from servegraph.serving.base import Route
from servegraph.serving.event import Event
from servegraph.serving.routers import BaseModelRouter


class ParallelRunnerModes(StrEnum):
    """How routes run side by side: one by one, in threads, or in processes."""

    array = "array"
    process = "process"
    thread = "thread"

    @staticmethod
    def all() -> list[ParallelRunnerModes]:
        """Every mode."""
        return [ParallelRunnerModes.thread, ParallelRunnerModes.process, ParallelRunnerModes.array]


class ParallelRun(BaseModelRouter):
    """Run every route on a copy of the event and merge the answers (see the module).

    Parameters (besides the router's):
        extend_event: start the merged answer from the request body (else from ``{}``).
        executor_type: a :class:`ParallelRunnerModes` or its name (default ``thread``).
            In ``process`` mode the routes must be class steps; each is pickled to a
            worker process with the request.
    """

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Route] | None = None,
        protocol: str | None = None,
        url_prefix: str | None = None,
        health_prefix: str | None = None,
        extend_event: bool | None = None,
        executor_type: ParallelRunnerModes | str = ParallelRunnerModes.thread,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            context=context,
            name=name or "ParallelRun",
            routes=routes,
            protocol=protocol,
            url_prefix=url_prefix,
            health_prefix=health_prefix,
            **kwargs,
        )
        try:
            self.executor_type = ParallelRunnerModes(executor_type)
        except ValueError:
            raise GraphError(
                f"The 'executor_type' parameter of ParallelRun must be one of "
                f"{[m.value for m in ParallelRunnerModes]}. Got {executor_type!r} instead."
            ) from None
        self.extend_event = extend_event
        self._pool: Executor | None = None
        self._detached: dict[str, Any] = {}

    def post_init(self, mode: str = "sync") -> None:
        """Start the thread or process pool, once the routes are known."""
        if self.executor_type is ParallelRunnerModes.process:
            handlers = [key for key, route in self.routes.items() if route.object is None]
            if handlers:
                raise GraphError(
                    f"ParallelRun {self.name!r} in process mode needs class routes; "
                    f"{handlers} are handlers"
                )
            self._detached = {key: _detached(r.object) for key, r in self.routes.items()}
            self._pool = ProcessPoolExecutor(
                max_workers=max(1, len(self.routes)), mp_context=get_context("spawn")
            )
        elif self.executor_type is ParallelRunnerModes.thread:
            self._pool = ThreadPoolExecutor(
                max_workers=max(1, len(self.routes)), thread_name_prefix=f"parallel-{self.name}"
            )

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def merger(self, body: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
        """Merge the routes' answers (``{route: answer}``) into ``body``; override to change."""
        for key, result in results.items():
            if not isinstance(result, dict):
                raise BadRequestError(
                    f"ParallelRun {self.name!r}: route {key!r} answered a "
                    f"{type(result).__name__}, not a dict to merge"
                )
            body.update(result)
        return body

    def do_event(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        """Run every route and set the merged answer as the body."""
        keys = list(self.routes)
        if self.executor_type is ParallelRunnerModes.process:
            assert self._pool is not None
            futures = [
                self._pool.submit(_run_object, self._detached[k], copy.deepcopy(event.body))
                for k in keys
            ]
            answers = [f.result() for f in futures]
        elif self._pool is not None:
            answers = list(self._pool.map(lambda k: self._run(k, event), keys))
        else:
            answers = [self._run(k, event) for k in keys]
        return self._merged(event, dict(zip(keys, answers, strict=True)))

    async def do_event_async(self, event: Event, *args: Any, **kwargs: Any) -> Event:
        """``do_event`` when some routes are async: all routes run concurrently on the loop."""

        async def run(route: Route) -> Any:
            member = _copy(event)
            out = route.run(member) if route.arun is None else await route.arun(member)
            return out.body

        answers = await asyncio.gather(*(run(route) for route in self.routes.values()))
        return self._merged(event, dict(zip(self.routes, answers, strict=True)))

    def _run(self, key: str, event: Event) -> Any:
        return self.routes[key].run(_copy(event)).body

    def _merged(self, event: Event, results: dict[str, Any]) -> Event:
        if self.extend_event:
            if not isinstance(event.body, dict):
                raise BadRequestError(
                    f"ParallelRun {self.name!r} with extend_event needs a dict body. "
                    f"Got {type(event.body).__name__} instead."
                )
            body = dict(event.body)
        else:
            body = {}
        event.body = self.merger(body, results)
        return event


def _copy(event: Event) -> Event:
    member = copy.copy(event)
    member.body = copy.deepcopy(event.body)
    return member


def _detached(obj: Any) -> Any:
    """A copy of a step object without its context (which stays in this process)."""
    out = copy.copy(obj)
    if getattr(out, "context", None) is not None:
        out.context = None
    return out


def _run_object(obj: Any, body: Any) -> Any:
    """Worker side of process mode: run a class step on one body."""
    if hasattr(obj, "do_event"):
        return obj.do_event(Event(body=body)).body
    return obj.do(body)
