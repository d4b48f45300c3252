"""Footprint: RSS after start and time to the first answer, ``servegraph serve`` against a
minimal aiohttp endpoint serving the same scikit-learn model, in one run.

Both are started as fresh processes (``python -m servegraph serve function.yaml`` and a
small aiohttp script that ``joblib.load``\\ s the model and answers the V2 infer path); the
time runs from ``Popen`` to the first 200 answer to an infer request, and the RSS
(``VmRSS`` of /proc) is read right after it. Each is started ``--rounds`` times, the
best kept; targets: servegraph within 1.1x of the minimal endpoint on both.

    PYTHONPATH=. python bench/footprint.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import joblib
import numpy as np

ROW = [5.1, 3.5, 1.4, 0.2]
PATH = "/v2/models/m/infer"

MINIMAL = """
import sys, joblib, numpy as np
from aiohttp import web
model = joblib.load(sys.argv[1])
async def infer(request):
    body = await request.json()
    outputs = model.predict(np.asarray(body["inputs"])).tolist()
    return web.json_response({"model_name": "m", "outputs": outputs})
app = web.Application()
app.router.add_post("/v2/models/m/infer", infer)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def first_answer(command: list[str], port: int) -> tuple[float, float]:
    """Seconds from start to the first 200 answer, and the RSS (MB) then."""
    body = json.dumps({"inputs": [ROW]}).encode()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:  # no fixed limit: wait as long as the process lives
            if process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited: {process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{PATH}", body, {"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - start, rss_mb(process.pid)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.02)
    finally:
        process.terminate()
        process.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from sklearn.ensemble import RandomForestClassifier

    import servegraph

    with tempfile.TemporaryDirectory() as folder:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(500, 4))
        model_path = Path(folder) / "rf.joblib"
        joblib.dump(RandomForestClassifier(50, random_state=0).fit(x, x[:, 0] > 0), model_path)
        fn = servegraph.new_function("footprint", kind="serving")
        fn.set_topology("router")
        fn.add_model("m", class_name="SKLearnModelServer", model_path=str(model_path))
        spec = fn.export(Path(folder) / "function.yaml")
        script = Path(folder) / "minimal.py"
        script.write_text(MINIMAL)
        cases = {
            "minimal aiohttp endpoint": lambda port: [
                sys.executable, str(script), str(model_path), str(port)
            ],
            "servegraph serve": lambda port: [
                sys.executable, "-m", "servegraph", "serve", spec, "--port", str(port)
            ],
        }  # fmt: skip
        best = {name: (float("inf"), float("inf")) for name in cases}
        for _ in range(args.rounds):
            for name, command in cases.items():
                port = free_port()
                seconds, rss = first_answer(command(port), port)
                best[name] = (min(best[name][0], seconds), min(best[name][1], rss))
    print(f"{'case':28} {'first answer':>14} {'RSS':>10}   (best of {args.rounds})")
    for name, (seconds, rss) in best.items():
        print(f"{name:28} {seconds:12.2f} s {rss:8.1f} MB")
    (t0, m0), (t1, m1) = best["minimal aiohttp endpoint"], best["servegraph serve"]
    print(f"servegraph / minimal: start {t1 / t0:.2f}x, RSS {m1 / m0:.2f}x (target <= 1.1x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
