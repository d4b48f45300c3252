"""Model-endpoint logging overhead: V2 requests/s with tracking on vs off, same run.

A serving function with one V2 model behind the router answers ``infer``
requests through the in-process mock server (no network, so the tracker's
cost is not hidden behind HTTP). With tracking on, every request builds the
endpoint record and ``StreamTracker.log`` queues it; the tracker's background
task writes batches to the embedded file-log stream on the server's loop in
the same process (its JSON encoding and writes compete for the same CPU). The
model is a fitted scikit-learn logistic regression (``--model sklearn``,
default) or a trivial echo (``--model echo``, the worst case).

    PYTHONPATH=. python bench/logging_overhead.py [-n 5000] [--rounds 5] [--batch 100]
                                                  [--model echo]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

import servegraph as sg
from servegraph.serving import V2ModelServer

_rng = np.random.default_rng(0)
_X = _rng.normal(0, 1, (500, 4))
_CLF = LogisticRegression().fit(_X, (_X[:, 0] > 0).astype(int))


class Echo(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


class Classifier(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return _CLF.predict(np.asarray(request["inputs"])).tolist()


BATCH = 100


def server(model: type[V2ModelServer], tracking: bool) -> Any:
    fn = sg.new_function("bench-tracking", kind="serving")
    fn.set_topology("router")
    fn.add_model("m1", class_name=model)
    fn.set_tracking(batch=BATCH)
    return fn.to_mock_server(track_models=tracking)


def rates(model: type[V2ModelServer], n: int, rounds: int) -> dict[str, Any]:
    """Best wall and CPU seconds per request, off and on, rounds interleaved.

    CPU time (``time.process_time``: every thread of this process, including
    the tracker's flusher) is steadier than wall time on a shared machine.
    """
    servers = {False: server(model, False), True: server(model, True)}
    body = {"inputs": [[0.1, -0.2, 0.3, 0.4]]}
    wall = {False: float("inf"), True: float("inf")}
    cpu = {False: float("inf"), True: float("inf")}
    for srv in servers.values():
        srv.test("/v2/models/m1/infer", body)
    for _ in range(rounds):
        for tracking, srv in servers.items():
            test = srv.test
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                test("/v2/models/m1/infer", body)
            if tracking:  # count the flush of this round's records
                srv.context.tracker.request_flush()
                while srv.context.tracker.pending:
                    time.sleep(0.0005)
            wall[tracking] = min(wall[tracking], (time.perf_counter() - start) / n)
            cpu[tracking] = min(cpu[tracking], (time.process_time() - start_cpu) / n)
    tracker = servers[True].context.tracker
    for srv in servers.values():
        srv.wait_for_completion()  # flush
    return {"wall": wall, "cpu": cpu, "tracker": tracker}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5_000, help="requests per round")
    parser.add_argument("--model", choices=("sklearn", "echo"), default="sklearn")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="tracker batch size")
    args = parser.parse_args(argv)
    os.environ["SERVEGRAPH_HOME"] = tempfile.mkdtemp(prefix="sg-bench-")
    model = Classifier if args.model == "sklearn" else Echo
    global BATCH
    BATCH = args.batch
    result = rates(model, args.n, args.rounds)
    wall, cpu, stats = result["wall"], result["cpu"], result["tracker"].stats
    print(
        f"V2 infer, model={args.model}, {args.n} requests x {args.rounds} interleaved rounds "
        "(best of each), mock server, flush included"
    )
    for label, key in (("tracking off", False), ("tracking on ", True)):
        print(
            f"{label}: {1 / wall[key]:10,.0f} requests/s ({wall[key] * 1e6:7.1f} us wall, "
            f"{cpu[key] * 1e6:7.1f} us CPU per request)"
        )
    print(f"ratio on/off, requests/s (wall): {wall[False] / wall[True]:.3f}x (target >= 0.95x)")
    print(f"ratio on/off, requests/CPU-s:    {cpu[False] / cpu[True]:.3f}x")
    print(f"records logged {stats['logged']}, pushed {stats['pushed']}, spilled {stats['spilled']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
