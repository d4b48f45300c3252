"""The async engine: our own asyncio walk over a compiled plan (not storey).

Sync steps are called directly and only coroutine steps are awaited; a fan-out
runs its branches concurrently in a TaskGroup; a step with several inlets runs
once per arriving event (a ``Merge`` joins them). Same results as the sync engine.

>>> # event = await run_async(plan, Event(body=...))
"""

from __future__ import annotations

import asyncio

from servegraph.serving.engine_sync import fan_out
from servegraph.serving.errors_map import Handled, as_request_error, mark
from servegraph.serving.event import Event
from servegraph.serving.plan import Node, Plan


async def run_async(plan: Plan, event: Event) -> Event:
    """Run ``event`` through ``plan``; return the result event (errors as in run_sync)."""
    body_chain = plan.body_chain
    if body_chain is not None:  # plain sync body steps only: nothing to await
        body = event.body
        index = 0
        try:
            for fn in body_chain:
                body = fn(body)
                index += 1
        except Exception as exc:
            event.body = body
            return await _handle(plan.nodes[index], event, exc)
        event.body = body
        return event
    chain = plan.chain
    if chain is not None:
        node = None
        try:
            for node in chain:
                arun = node.arun
                if arun is None:
                    event = node.run(event)
                else:
                    event = await arun(event)
        except Exception as exc:
            assert node is not None
            return await _handle(node, event, exc)
        return event
    walk = _Walk(plan)
    starts = plan.starts
    events = fan_out(event, len(starts), plan.result in starts)
    try:
        if len(starts) == 1:
            await walk.visit(starts[0], events[0])
        else:
            await walk.branches(starts, events)
    except Handled as handled:
        return handled.event
    # no result step reached (e.g. an empty graph): the event as it came in
    return walk.result if walk.result is not None else event


class _Walk:
    __slots__ = ("plan", "result")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.result: Event | None = None

    async def visit(self, node: Node, event: Event) -> None:
        result_node = self.plan.result
        while True:
            try:
                out = await _call(node, event)
            except Handled:
                raise
            except Exception as exc:
                raise Handled(await _handle(node, event, exc)) from None
            if out is None:  # a Merge holding a part: this branch ends here
                return
            if node is result_node:
                self.result = out
            outlets = node.outlets
            if not outlets:
                return
            events = fan_out(out, len(outlets), node is result_node)
            if len(outlets) > 1:
                await self.branches(outlets, events)
                return
            node = outlets[0]
            event = events[0]

    async def branches(self, nodes: tuple[Node, ...], events: list[Event]) -> None:
        """Run parallel branches concurrently; the first failure cancels the others."""
        try:
            async with asyncio.TaskGroup() as group:
                for node, event in zip(nodes, events, strict=True):
                    group.create_task(self.visit(node, event))
        except BaseExceptionGroup as group_error:
            raise _first(group_error) from None


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf exception of a group (a Handled result wins)."""
    leaves: list[BaseException] = []

    def collect(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                collect(inner)
        else:
            leaves.append(exc)

    collect(group)
    for leaf in leaves:
        if isinstance(leaf, Handled):
            return leaf
    return leaves[0]


async def _call(node: Node, event: Event) -> Event:
    arun = node.arun
    timeout = node.timeout
    if arun is None:
        if timeout is None:
            return node.run(event)
        loop = asyncio.get_running_loop()
        # on a copy: a step that outlives its timeout keeps running in its thread
        # and must not change the event the error handler gets
        return await asyncio.wait_for(loop.run_in_executor(None, node.run, event.copy()), timeout)
    if timeout is None:
        return await arun(event)
    return await asyncio.wait_for(arun(event), timeout)


async def _handle(node: Node, event: Event, exc: BaseException) -> Event:
    handler = node.on_error
    if handler is None:
        error = as_request_error(node, exc)
        if error is exc:
            raise error  # our own error keeps its own cause
        raise error from exc
    return await run_async(handler, mark(event, node, exc))
