"""The dashboard's run list on a project with 10,000 runs: one page against the whole list.

Fills a temporary SERVEGRAPH_HOME with N runs, then times ``GET /api/runs`` (one
page of 50, filtered and not) through the real HTTP server, against the baseline
of reading every run of the project (``list_runs``, what an unpaginated page
would need). Prints milliseconds and the ratio to the baseline.

    python bench/ui_runs.py            # N=10000
    python bench/ui_runs.py -n 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def timed_get(url: str, repeat: int) -> tuple[float, int]:
    import aiohttp

    times, size = [], 0
    async with aiohttp.ClientSession() as session:
        for _ in range(repeat):
            began = time.perf_counter()
            async with session.get(url) as resp:
                size = len(await resp.read())
            times.append(time.perf_counter() - began)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["SERVEGRAPH_HOME"] = home
        from servegraph.config import get_config
        from servegraph.storage.rundb import get_run_db
        from servegraph.ui import make_app
        from tests.threaded_server import serve_app
        from tests.ui.test_pagination import add_runs

        add_runs("big", args.n)
        db = get_run_db()
        began = time.perf_counter()
        for _ in range(args.repeat):
            everything = db.list_runs(project="big")
        baseline = (time.perf_counter() - began) / args.repeat
        print(f"{args.n} runs; baseline: list_runs of the whole project {baseline * 1000:.0f} ms")
        with serve_app(make_app(get_config())) as url:
            for label, query in (
                ("first page", "project=big&limit=50"),
                ("last page", f"project=big&limit=50&offset={args.n - 50}"),
                ("filtered page", "project=big&state=error&label=shard=1"),
            ):
                took, size = asyncio.run(timed_get(f"{url}/api/runs?{query}", args.repeat))
                print(
                    f"GET /api/runs {label:14} {took * 1000:6.0f} ms {size:7} bytes  "
                    f"ratio to baseline {took / baseline:.2f}"
                )
        assert len(everything) == args.n


if __name__ == "__main__":
    main()
