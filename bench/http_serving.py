"""HTTP serving throughput: servegraph's V2 endpoint against a bare aiohttp handler.

Each server runs in its own process (uvloop when installed); the load generator
(aiohttp client, N concurrent keep-alive connections, fixed duration) runs in
this process. Two comparisons, all in one run:

1. overhead: the same scikit-learn model (LogisticRegression, the cheapest, so
   any serving overhead shows) behind (a) a bare aiohttp handler and (b)
   ``POST /v2/models/m/infer`` of a servegraph router; target >= 0.8x.
0. thread hop: an echo model behind (a) a bare aiohttp handler that runs it
   inline, (b) servegraph with the model on its own executor (the default) and
   (c) servegraph with ``blocking = False`` (inline); target (b) >= 0.9x (a).
2. batching: a model whose predict call has a high fixed cost
   (RandomForest, 50 trees) served by servegraph with and without
   ``max_batch_size``, 64 concurrent clients; target >= 5x.

3. workers (``--workers N``, instead of 1 and 2): the same scikit-learn model
   (RandomForest, 50 trees, no batching: CPU-bound in the server) served by
   ``servegraph serve fn.yaml --workers 1`` and ``--workers N``; target on a
   2-core machine: N=2 gives >= 1.6x req/s.

    PYTHONPATH=. python bench/http_serving.py            # ~40 s
    PYTHONPATH=. python bench/http_serving.py --quick    # ~15 s
    PYTHONPATH=. python bench/http_serving.py --workers 2

Server CPU per request (from /proc) is printed too: it holds even when the
load generator, sharing the machine, caps the request rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import joblib
import numpy as np

ROW = [5.1, 3.5, 1.4, 0.2]
PATH = "/v2/models/m/infer"


def train(folder: Path) -> dict[str, Path]:
    """Fit the two models on a small synthetic data set; return their files."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    paths = {"lr": folder / "lr.joblib", "rf": folder / "rf.joblib"}
    joblib.dump(LogisticRegression().fit(x, y), paths["lr"])
    joblib.dump(RandomForestClassifier(n_estimators=50, random_state=0).fit(x, y), paths["rf"])
    return paths


def _loop() -> asyncio.AbstractEventLoop:
    from servegraph.serving.http.app import new_event_loop

    return new_event_loop()


def serve_bare(model_path: str, port: int) -> None:
    """(a) the baseline: one aiohttp handler calling the model."""
    from aiohttp import web

    model = joblib.load(model_path)

    async def infer(request: web.Request) -> web.Response:
        body = await request.json()
        outputs = model.predict(np.asarray(body["inputs"])).tolist()
        return web.json_response({"id": body.get("id"), "model_name": "m", "outputs": outputs})

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"ready": True})

    app = web.Application()
    app.router.add_post(PATH, infer)
    app.router.add_get("/v2/health/ready", ready)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=_loop())


def serve_bare_echo(port: int) -> None:
    """(0a) the thread-hop baseline: a bare aiohttp handler running an echo model inline."""
    from aiohttp import web

    async def infer(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(
            {"id": body.get("id"), "model_name": "m", "outputs": body["inputs"]}
        )

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"ready": True})

    app = web.Application()
    app.router.add_post(PATH, infer)
    app.router.add_get("/v2/health/ready", ready)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=_loop())


def serve_echo(inline: bool, port: int) -> None:
    """(0b/0c) servegraph's echo model on its own executor (default) or inline."""
    import servegraph
    from servegraph.serving import V2ModelServer
    from servegraph.serving.http import run_app
    from servegraph.serving.server import GraphServer

    class Echo(V2ModelServer):
        blocking = not inline

        def predict(self, request: dict[str, Any]) -> Any:
            return request["inputs"]

    fn = servegraph.new_function("bench-echo", kind="serving")
    fn.set_topology("router")
    fn.add_model("m", class_name=Echo)
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace={"Echo": Echo})
    run_app(server, host="127.0.0.1", port=port, print=None)


def serve_servegraph(model_path: str, max_batch_size: int | None, port: int) -> None:
    """(b) servegraph: a router with an SKLearnModelServer, over the HTTP edge."""
    import servegraph
    from servegraph.serving.http import run_app
    from servegraph.serving.server import GraphServer

    fn = servegraph.new_function("bench", kind="serving")
    fn.set_topology("router")
    args: dict[str, Any] = {}
    if max_batch_size:
        args = {"max_batch_size": max_batch_size, "max_batch_wait_ms": 2}
    fn.add_model("m", class_name="SKLearnModelServer", model_path=model_path, **args)
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states()
    run_app(server, host="127.0.0.1", port=port, print=None)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (Linux /proc), or NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    server_cpu: float = float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")

    @property
    def cpu_per_request_us(self) -> float:
        return self.server_cpu / max(self.requests, 1) * 1e6

    def line(self) -> str:
        return (
            f"{self.name:<34} {self.rps:>7.0f} req/s  p50 {self.pct(50):7.2f} ms  "
            f"p99 {self.pct(99):7.2f} ms  server CPU {self.cpu_per_request_us:6.0f} us/req  "
            f"errors {self.errors}"
        )


async def _generate(url: str, concurrency: int, seconds: float, warmup: float, pid: int) -> Result:
    body = {"inputs": [ROW]}
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        measure_from = start + warmup
        deadline = measure_from + seconds

        async def worker() -> None:
            while True:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    return
                async with session.post(url, json=body) as resp:
                    await resp.read()
                    ok = resp.status == 200
                t1 = time.perf_counter()
                if t0 >= measure_from:
                    counts["ok" if ok else "errors"] += 1
                    latencies.append(t1 - t0)

        async def sample_cpu() -> float:
            await asyncio.sleep(measure_from - time.perf_counter())
            before = cpu_seconds(pid)
            await asyncio.sleep(deadline - time.perf_counter())
            return cpu_seconds(pid) - before

        cpu, *_ = await asyncio.gather(sample_cpu(), *(worker() for _ in range(concurrency)))
    return Result("", counts["ok"], counts["errors"], seconds, latencies, cpu)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_ready(base: str, alive: Any) -> None:
    """Poll readiness for as long as the server process lives (no fixed limit: a loaded
    machine may take minutes to import and load); fail at once if it died."""
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"{base}/v2/health/ready") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if not alive():
                raise RuntimeError(f"server at {base} exited before it became ready")
            await asyncio.sleep(0.1)


class ServerProcess:
    """A server in its own (spawned) process on a free port."""

    def __init__(self, name: str, target: Any, args: tuple[Any, ...]) -> None:
        self.name = name
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=target, args=(*args, self.port), daemon=True)

    def __enter__(self) -> ServerProcess:
        self.process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)

    def alive(self) -> bool:
        return bool(self.process.is_alive())


class CliServer:
    """``servegraph serve SPEC --workers N`` in a subprocess on a free port."""

    def __init__(self, name: str, spec: str, workers: int) -> None:
        self.name = name
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "servegraph", "serve", spec, "--host", "127.0.0.1",
                        "--port", str(self.port), "--workers", str(workers)]  # fmt: skip
        self.process: Any = None

    def __enter__(self) -> CliServer:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(30)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def export_spec(model_path: str, folder: Path) -> str:
    """The bench function (an SKLearnModelServer router) exported to ``folder``."""
    import servegraph

    fn = servegraph.new_function("bench", kind="serving")
    fn.set_topology("router")
    fn.add_model("m", class_name="SKLearnModelServer", model_path=model_path)
    return fn.export(folder / "function.yaml")


def compare(cases: list[Any], concurrency: int, seconds: float, rounds: int) -> list[Result]:
    """Load each server in turn, ``rounds`` times; keep each one's best round.

    Alternating rounds and keeping the best spreads the noise of a shared
    machine evenly over the servers being compared.
    """
    best: dict[str, Result] = {}
    loop = _loop()
    try:
        with contextlib.ExitStack() as stack:
            for case in cases:
                stack.enter_context(case)
            for case in cases:
                loop.run_until_complete(_wait_ready(case.base, case.alive))
            for _ in range(rounds):
                for case in cases:
                    result = loop.run_until_complete(
                        _generate(case.base + PATH, concurrency, seconds / rounds, 0.5,
                                  case.process.pid or 0)
                    )  # fmt: skip
                    result.name = case.name
                    if case.name not in best or result.rps > best[case.name].rps:
                        best[case.name] = result
    finally:
        loop.close()
    for result in best.values():
        print(result.line(), flush=True)
    return [best[case.name] for case in cases]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="measured time per case")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per case")
    parser.add_argument("--concurrency", type=int, default=16, help="clients for comparison 1")
    parser.add_argument("--batch-clients", type=int, default=64, help="clients for comparison 2")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="2 s per case, one round")
    parser.add_argument("--workers", type=int, help="compare serve --workers N with --workers 1")
    args = parser.parse_args(argv)
    seconds, rounds = (2.0, 1) if args.quick else (args.seconds, args.rounds)
    with tempfile.TemporaryDirectory() as folder:
        models = train(Path(folder))
        lr, rf = str(models["lr"]), str(models["rf"])
        if args.workers:
            return compare_workers(export_spec(rf, Path(folder)), args, seconds, rounds)
        print(f"0. thread hop: echo model, {args.concurrency} clients, best of {rounds}")
        bare_echo, isolated, inline = compare(
            [
                ServerProcess("(a) bare aiohttp, echo inline", serve_bare_echo, ()),
                ServerProcess("(b) servegraph, own executor", serve_echo, (False,)),
                ServerProcess("(c) servegraph, blocking=False", serve_echo, (True,)),
            ],
            args.concurrency, seconds, rounds,
        )  # fmt: skip
        print(f"1. overhead: LogisticRegression, {args.concurrency} clients, best of {rounds}")
        bare, ours = compare(
            [
                ServerProcess("(a) bare aiohttp handler", serve_bare, (lr,)),
                ServerProcess("(b) servegraph V2 endpoint", serve_servegraph, (lr, None)),
            ],
            args.concurrency, seconds, rounds,
        )  # fmt: skip
        print(f"2. batching: RandomForest(50 trees), {args.batch_clients} clients")
        off, on = compare(
            [
                ServerProcess("servegraph, batching off", serve_servegraph, (rf, None)),
                ServerProcess(f"servegraph, max_batch_size={args.batch_size}", serve_servegraph,
                              (rf, args.batch_size)),
            ],
            args.batch_clients, seconds, rounds,
        )  # fmt: skip
    print(
        f"echo, servegraph own executor / bare inline: {isolated.rps / bare_echo.rps:.2f}x "
        f"req/s (target >= 0.9x); blocking=False / bare: {inline.rps / bare_echo.rps:.2f}x"
    )
    print(f"servegraph / bare handler: {ours.rps / bare.rps:.2f}x req/s (target >= 0.8x)")
    cpu_ratio = bare.cpu_per_request_us / ours.cpu_per_request_us
    print(f"  server CPU per request, bare / servegraph: {cpu_ratio:.2f}x")
    print(f"batching on / off: {on.rps / off.rps:.2f}x req/s (target >= 5x)")
    return 0


def compare_workers(spec: str, args: argparse.Namespace, seconds: float, rounds: int) -> int:
    """Comparison 3: ``serve --workers 1`` against ``--workers N``, same model and load."""
    print(f"3. workers: RandomForest(50 trees), {args.concurrency} clients, best of {rounds}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    one, many = compare(
        [CliServer("servegraph serve --workers 1", spec, 1),
         CliServer(f"servegraph serve --workers {args.workers}", spec, args.workers)],
        args.concurrency, seconds, rounds,
    )  # fmt: skip
    print(
        f"--workers {args.workers} / --workers 1: {many.rps / one.rps:.2f}x req/s "
        "(target >= 1.6x for 2 workers on 2 cores)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
