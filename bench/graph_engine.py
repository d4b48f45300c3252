"""Benchmark the graph engines against inline calls and storey, in one run.

A 3-step flow of trivial class steps goes through the mock server's ``test()``
(sync engine), ``await server.run_async(event)`` one event at a time (async
engine), the same three calls made inline (baseline) and a storey flow of three
``Map`` steps emitting and awaiting each event, ``test()`` on the flow declared
``engine="async"`` (target <= 15 us/event); plus a V2 infer through
``ModelRouter``. Prints events/s, µs/event and ratios.

    python bench/graph_engine.py            # 200k events per case
    python bench/graph_engine.py --quick    # 20k
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

import storey

import servegraph as sg
from servegraph.serving import V2ModelServer
from servegraph.serving.event import Event


class Inc:
    def do(self, x: int) -> int:
        return x + 1


class Double:
    def do(self, x: int) -> int:
        return x * 2


class Dec:
    def do(self, x: int) -> int:
        return x - 1


class Echo(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


def flow_function(engine: str) -> Any:
    fn = sg.new_function("bench", kind="serving")
    graph = fn.set_topology("flow", engine=engine)
    graph.to(Inc, name="inc").to(Double, name="double").to(Dec, name="dec").respond()
    return fn


def timed(n: int, loop: Callable[[int], object]) -> float:
    """Seconds per event of the best of 3 runs of ``loop(n)``."""
    best = float("inf")
    for _ in range(3):
        gc.collect()
        start = time.perf_counter()
        loop(n)
        best = min(best, time.perf_counter() - start)
    return best / n


def bench_inline(n: int) -> float:
    a, b, c = Inc(), Double(), Dec()

    def loop(n: int) -> None:
        for i in range(n):
            c.do(b.do(a.do(i)))

    return timed(n, loop)


def bench_sync_mock(n: int) -> float:
    server = flow_function("sync").to_mock_server()
    assert server.test(body=1) == 3
    test = server.test

    def loop(n: int) -> None:
        for i in range(n):
            test(body=i)

    return timed(n, loop)


def bench_async_mock(n: int) -> float:
    """``server.test()`` on a flow declared ``engine="async"`` (sync caller)."""
    server = flow_function("async").to_mock_server()
    assert server.test(body=1) == 3
    test = server.test

    def loop(n: int) -> None:
        for i in range(n):
            test(body=i)

    return timed(n, loop)


def bench_async_engine(n: int) -> float:
    server = flow_function("async").to_mock_server()
    assert server.test(body=1) == 3
    run_async = server.run_async

    async def many(n: int) -> None:
        for i in range(n):
            await run_async(Event(i))

    loop = asyncio.new_event_loop()
    try:
        return timed(n, lambda n: loop.run_until_complete(many(n)))
    finally:
        loop.close()


def bench_storey(n: int) -> float:
    async def many(n: int) -> None:
        controller = storey.build_flow(
            [
                storey.AsyncEmitSource(),
                storey.Map(lambda x: x + 1),
                storey.Map(lambda x: x * 2),
                storey.Map(lambda x: x - 1),
                storey.Complete(),
            ]
        ).run()
        for i in range(n):
            await controller.emit(i)
        await controller.terminate()
        await controller.await_termination()

    loop = asyncio.new_event_loop()
    try:
        return timed(n, lambda n: loop.run_until_complete(many(n)))
    finally:
        loop.close()


def bench_v2_router(n: int) -> float:
    fn = sg.new_function("bench-v2", kind="serving")
    fn.set_topology("router")
    fn.add_model("m1", class_name=Echo)
    fn.add_model("m2", class_name=Echo)
    server = fn.to_mock_server()
    body = {"inputs": [[1, 2, 3]]}
    assert server.test("/v2/models/m1/infer", body=body)["outputs"] == [[1, 2, 3]]
    test = server.test

    def loop(n: int) -> None:
        for _ in range(n):
            test("/v2/models/m1/infer", body)

    return timed(n, loop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k events per case")
    parser.add_argument("-n", type=int, default=None, help="events per case")
    args = parser.parse_args(argv)
    n = args.n or (20_000 if args.quick else 200_000)
    results = {
        "inline calls (baseline)": bench_inline(n),
        "sync engine, mock test()": bench_sync_mock(n),
        "async engine, awaited 1 by 1": bench_async_engine(n),
        "async engine, mock test()": bench_async_mock(n),
        "storey 3x Map, emit+await": bench_storey(max(n // 10, 1000)),
        "V2 infer via ModelRouter, test()": bench_v2_router(n),
    }
    base = results["inline calls (baseline)"]
    storey_s = results["storey 3x Map, emit+await"]
    print(f"{'case':36} {'events/s':>12} {'us/event':>9} {'x inline':>9} {'storey/x':>9}")
    for name, seconds in results.items():
        print(
            f"{name:36} {1 / seconds:12,.0f} {seconds * 1e6:9.2f} "
            f"{seconds / base:9.1f} {storey_s / seconds:9.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
