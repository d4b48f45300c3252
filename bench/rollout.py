"""Live rollout: req/s and p99 latency while a new model version is swapped in, vs steady.

One ``servegraph serve`` process serves a scikit-learn RandomForest
(``store://models/bench/rf:v1``, 100 trees: loading it takes a noticeable
time); this process sends a steady load (N concurrent keep-alive clients) for
three phases of equal length and, at the start of the middle one, asks the
server to load ``store://models/bench/rf:v2`` through the V2 repository API
(``POST /v2/repository/models/rf/load``). The load is built off the event loop
and swapped in atomically. Printed: requests, failures, req/s and p99 for the
steady phase before and the swap phase, and their ratios.

Target: 0 failed requests; p99 during the swap <= 2x steady.

    PYTHONPATH=. python bench/rollout.py            # ~15 s
    PYTHONPATH=. python bench/rollout.py --seconds 2 --clients 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

APP = textwrap.dedent(
    """
    import servegraph
    fn = servegraph.new_function("bench-rollout", kind="serving", project="bench")
    fn.set_topology("router")
    fn.add_model("rf:v1", class_name="SKLearnModelServer", model_path="store://models/bench/rf:v1")
    """
)
ROW = [0.3, -1.2, 0.5, 2.0]


def log_models() -> None:
    """Train two versions and register them (one training run each)."""
    from sklearn.ensemble import RandomForestClassifier

    from servegraph.functions.context import build_context

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4))
    for version, seed in (("v1", 1), ("v2", 2)):
        y = (x[:, 0] + x[:, 1] * seed > 0).astype(int)
        model = RandomForestClassifier(n_estimators=100, random_state=seed).fit(x, y)
        ctx = build_context("train", {"metadata": {"project": "bench"}})
        ctx.log_model("rf", body=model, model_file="model.pkl", tag=version)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if proc.poll() is not None:
                raise SystemExit("the server exited")
            try:
                async with session.get(f"{base}/v2/health/ready") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


class Phase:
    """Latencies and failures of one phase."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.failed = 0
        self.versions: dict[str, int] = {}
        self.seconds = 0.0

    def line(self) -> str:
        p99 = float(np.percentile(self.latencies, 99)) * 1000 if self.latencies else float("nan")
        rate = len(self.latencies) / self.seconds
        return (
            f"{self.name:>7}: {len(self.latencies) + self.failed:6d} requests, "
            f"{self.failed} failed, {rate:7.0f} req/s, p99 {p99:6.2f} ms, versions {self.versions}"
        )

    @property
    def p99(self) -> float:
        return float(np.percentile(self.latencies, 99))

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


async def load(base: str, seconds: float, clients: int) -> tuple[Phase, Phase, Phase, float]:
    phases = [Phase("steady"), Phase("swap"), Phase("after")]
    current = [phases[0]]
    stop = asyncio.Event()
    body: dict[str, Any] = {"inputs": [ROW]}

    async def client(session: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            phase = current[0]
            start = time.perf_counter()
            try:
                async with session.post(f"{base}/v2/models/rf/infer", json=body) as resp:
                    answer = await resp.json()
                    ok = resp.status == 200
            except aiohttp.ClientError:
                ok, answer = False, {}
            if ok:
                phase.latencies.append(time.perf_counter() - start)
                version = str(answer.get("model_version"))
                phase.versions[version] = phase.versions.get(version, 0) + 1
            else:
                phase.failed += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(client(session)) for _ in range(clients)]
        await asyncio.sleep(seconds)
        phases[0].seconds = seconds
        current[0] = phases[1]
        swap_start = time.perf_counter()
        params = {"model_path": "store://models/bench/rf:v2", "version": "v2"}
        async with (
            aiohttp.ClientSession() as admin,
            admin.post(f"{base}/v2/repository/models/rf/load", json={"parameters": params}) as resp,
        ):
            if resp.status != 200:
                raise SystemExit(f"load failed: {resp.status} {await resp.text()}")
        load_seconds = time.perf_counter() - swap_start
        rest = max(0.0, seconds - load_seconds)
        await asyncio.sleep(rest)
        phases[1].seconds = time.perf_counter() - swap_start
        current[0] = phases[2]
        await asyncio.sleep(seconds)
        phases[2].seconds = seconds
        stop.set()
        await asyncio.gather(*tasks)
    return phases[0], phases[1], phases[2], load_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="sg-bench-rollout-")
    os.environ["SERVEGRAPH_HOME"] = home
    log_models()
    app = Path(home) / "app.py"
    app.write_text(APP)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "servegraph", "serve", str(app), "--host", "127.0.0.1"]
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=dict(os.environ))
    try:
        asyncio.run(wait_ready(base, proc))
        steady, swap, after, load_seconds = asyncio.run(load(base, args.seconds, args.clients))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"load of v2 (build + load off the loop + swap) answered in {load_seconds:.2f}s")
    for phase in (steady, swap, after):
        print(phase.line())
    failed = steady.failed + swap.failed + after.failed
    print(f"failed requests: {failed} (target 0)")
    print(f"swap vs steady: req/s {swap.rate / steady.rate:.2f}x, p99 {swap.p99 / steady.p99:.2f}x "
          "(target p99 <= 2x)")  # fmt: skip
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
