"""Overhead of run tracking, and of parallel hyper-parameter children.

Prints, for N calls of a tiny handler, the time of plain calls (the baseline),
of ``RunContext`` logging + one commit to the SQLite run database, and of full
``fn.run(kind="local")`` runs (record, output capture, log storage), with the
ratios against the baseline. Then, for 8 trivial children of a ``job``
function, the per-child time of serial children (one process each) against
``parallel_runs=4`` on the warm pool: its first run (starting the pool) and a
second run (the pool warm). Runs in a temporary SERVEGRAPH_HOME.

    python bench/bench_runs.py            # N=200
    python bench/bench_runs.py --quick    # N=30
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

HANDLER = "def handler(context, x=1):\n    context.log_result('y', x * 2)\n"


def plain(x: int) -> int:
    return x * 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    n = 30 if args.quick else args.n
    with tempfile.TemporaryDirectory() as home:
        os.environ["SERVEGRAPH_HOME"] = home
        from servegraph.functions.context import build_context
        from servegraph.functions.factory import new_function

        code = Path(home) / "h.py"
        code.write_text(HANDLER)

        start = time.perf_counter()
        for i in range(n):
            plain(i)
        base = max(time.perf_counter() - start, 1e-9)

        start = time.perf_counter()
        for i in range(n):
            ctx = build_context("bench")
            ctx.log_result("y", plain(i))
            ctx.commit(completed=True)
        tracked = time.perf_counter() - start

        fn = new_function("bench", kind="local", command=str(code))
        start = time.perf_counter()
        for i in range(n):
            fn.run(handler="handler", params={"x": i}, watch=False)
        full = time.perf_counter() - start

        children = {"x": list(range(8))}
        job = new_function("bench-job", kind="job", command=str(code))
        start = time.perf_counter()
        job.run(handler="handler", hyperparams=children, watch=False)
        serial = time.perf_counter() - start
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            job.run(handler="handler", hyperparams=children,
                    hyper_param_options={"parallel_runs": 4}, watch=False)  # fmt: skip
            timings.append(time.perf_counter() - start)
        from servegraph.functions.pool import shutdown

        shutdown()

    per = 1e3 / n
    print(f"calls: {n}")
    print(f"plain call           {base * per:9.4f} ms/call  (baseline)")
    print(f"context + commit     {tracked * per:9.4f} ms/call  ratio {tracked / base:,.0f}x")
    print(f"fn.run(kind=local)   {full * per:9.4f} ms/call  ratio {full / base:,.0f}x")
    print(f"fn.run vs context    {full / tracked:9.2f}x")
    each = 1e3 / 8
    cold, warm = timings
    print("8 trivial job children:")
    print(f"serial (a process each)       {serial * each:8.1f} ms/child  (baseline)")
    print(f"parallel_runs=4, pool cold    {cold * each:8.1f} ms/child  ratio {cold / serial:.2f}x")
    print(f"parallel_runs=4, pool warm    {warm * each:8.1f} ms/child  ratio {warm / serial:.2f}x")


if __name__ == "__main__":
    main()
