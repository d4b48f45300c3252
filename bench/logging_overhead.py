"""Model-endpoint logging overhead: V2 requests/s with tracking on vs off, same run.

One V2 model behind the router answers ``infer`` requests through the
in-process mock server (no network, so the cost is not hidden behind HTTP).
Three servers, measured in interleaved rounds (best of each) so they share
the machine's noise:

- ``off``: no tracking;
- ``no-op tracker``: the serving core's tracked path (the record is built per
  request) with a tracker whose ``log`` does nothing: the core's share;
- ``StreamTracker``: the real tracker writing to the embedded file-log stream
  from its background task, in the same process; each round waits until every
  record is in the stream, so the flushing is counted.

Each server's best wall time and best CPU time (``time.process_time``: this
process, every thread, so the tracker's flushing counts) per request are
printed; CPU time is what noise from other processes on a shared machine
cannot distort, and ``tracking CPU`` (on minus off, never below zero) is the
tracking cost per request.

The model is a fitted scikit-learn logistic regression (``--model sklearn``,
default) or a trivial echo (``--model echo``, the worst case).

    PYTHONPATH=. python bench/logging_overhead.py [-n 3000] [--rounds 6] [--model echo]
                                                  [--engine async]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

import servegraph as sg
from servegraph.serving import V2ModelServer
from servegraph.serving.event import Event
from servegraph.serving.mock import create_mock_server

_rng = np.random.default_rng(0)
_X = _rng.normal(0, 1, (500, 4))
_CLF = LogisticRegression().fit(_X, (_X[:, 0] > 0).astype(int))
BODY = {"inputs": [[0.1, -0.2, 0.3, 0.4]]}
PATH = "/v2/models/m1/infer"


class Echo(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


class Classifier(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return _CLF.predict(np.asarray(request["inputs"])).tolist()


class NoopTracker:
    """Takes records and drops them: isolates the serving core's tracked path."""

    def log(self, record: dict[str, Any]) -> None:
        return None

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def server(model: type[V2ModelServer], tracking: dict[str, Any] | None, engine: str) -> Any:
    fn = sg.new_function("bench-tracking", kind="serving")
    if engine == "sync":
        fn.set_topology("router")
    else:
        fn.set_topology("flow", engine="async").to("ModelRouter", name="router").respond()
    fn.add_model("m1", class_name=model)
    spec = fn.serving_spec(graph_as_dict=False)
    if tracking is not None:
        spec["tracking"] = tracking
    return create_mock_server(spec, name="bench-tracking", namespace=globals())


def _sync_round(srv: Any, n: int) -> None:
    test = srv.test
    for _ in range(n):
        test(PATH, BODY)


async def _async_round(srv: Any, n: int, concurrency: int) -> None:
    """Requests in waves of ``concurrency`` (as an HTTP server interleaves them)."""
    run_async = srv.run_async
    for done in range(0, n, concurrency):
        wave = min(concurrency, n - done)
        await asyncio.gather(*(run_async(Event(BODY, path=PATH)) for _ in range(wave)))


def measure(
    model: type[V2ModelServer], n: int, rounds: int, engine: str
) -> tuple[dict[str, float], dict[str, float], Any]:
    """Best wall and CPU seconds per request of each server, rounds interleaved."""
    tracker_spec = {"class": "servegraph.monitoring.tracking:StreamTracker", "batch": 100}
    servers = {
        "off": server(model, None, engine),
        "no-op tracker": server(model, {"class": f"{__name__}:NoopTracker"}, engine),
        "StreamTracker": server(model, tracker_spec, engine),
    }
    best = dict.fromkeys(servers, float("inf"))
    best_cpu = dict.fromkeys(servers, float("inf"))
    loop = asyncio.new_event_loop()
    for srv in servers.values():
        if engine == "sync":
            srv.test(PATH, BODY)
        else:
            loop.run_until_complete(srv.run_async(Event(BODY, path=PATH)))
    for _ in range(rounds):
        for name, srv in servers.items():
            gc.collect()
            start, cpu_start = time.perf_counter(), time.process_time()
            if engine == "sync":
                _sync_round(srv, n)
            else:
                loop.run_until_complete(_async_round(srv, n, 100))
            tracker = srv.context.tracker
            if hasattr(tracker, "pending"):  # wait until the round's records are written
                tracker.request_flush()
                while tracker.pending:
                    if engine == "sync":
                        time.sleep(0.0005)
                    else:
                        loop.run_until_complete(asyncio.sleep(0.0005))
            best[name] = min(best[name], (time.perf_counter() - start) / n)
            best_cpu[name] = min(best_cpu[name], (time.process_time() - cpu_start) / n)
    tracker = servers["StreamTracker"].context.tracker
    for srv in servers.values():
        if engine == "sync":
            srv.wait_for_completion()
        else:
            loop.run_until_complete(srv.close())
    loop.close()
    return best, best_cpu, tracker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3_000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--model", choices=("sklearn", "echo"), default="sklearn")
    parser.add_argument(
        "--engine",
        choices=("sync", "async"),
        default="sync",
        help="sync: mock test() (tracker on a background thread); async: run_async in waves "
        "of 100 concurrent requests on one loop (the tracker shares it, as in an HTTP server)",
    )
    args = parser.parse_args(argv)
    os.environ["SERVEGRAPH_HOME"] = tempfile.mkdtemp(prefix="sg-bench-")
    model = Classifier if args.model == "sklearn" else Echo
    best, cpu, tracker = measure(model, args.n, args.rounds, args.engine)
    print(
        f"V2 infer, model={args.model}, engine={args.engine}, {args.n} requests x "
        f"{args.rounds} interleaved rounds (best of each), in process"
    )
    off = best["off"]
    for name, seconds in best.items():
        print(
            f"{name:14} {1 / seconds:10,.0f} requests/s {seconds * 1e6:8.1f} us/request "
            f"{off / seconds:7.3f}x of off   CPU {cpu[name] * 1e6:8.1f} us/request "
            f"{cpu['off'] / cpu[name]:7.3f}x of off"
        )
    print(f"ratio tracking on/off: {off / best['StreamTracker']:.3f}x (target >= 0.95x)")
    tracking_cpu = max(0.0, cpu["StreamTracker"] - cpu["off"])
    print(
        f"tracking CPU: {tracking_cpu * 1e6:.1f} us/request (target <= 5 us); CPU ratio "
        f"on/off {cpu['off'] / cpu['StreamTracker']:.3f}x (target >= 0.95x)"
    )
    print(
        f"cost per request: serving core's tracked path "
        f"{(best['no-op tracker'] - off) * 1e6:.1f} us, StreamTracker "
        f"{(best['StreamTracker'] - best['no-op tracker']) * 1e6:.1f} us"
    )
    stats = tracker.stats
    print(f"records logged {stats['logged']}, pushed {stats['pushed']}, spilled {stats['spilled']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
