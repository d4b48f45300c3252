"""Step 7: the running server switches to the retrained version, under load, no restart.

The new version is loaded through the V2 model-repository extension
(``POST /v2/repository/models/fraud/load``) while requests keep coming; the
server builds it off the event loop and swaps the route atomically, so no
request fails. The previous version stays loaded on its version path, so both
can be compared on the same server.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pandas as pd

from . import check
from .traffic import request_body

CONCURRENCY = 8
AFTER = 4  # requests per worker after the load answered


@dataclass
class SwapReport:
    """Requests answered while the new version was loaded and swapped in."""

    sent: int = 0
    failed: int = 0
    versions: Counter[str] = field(default_factory=Counter)
    load_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        answered = ", ".join(f"{n} by {v}" for v, n in sorted(self.versions.items()))
        return (
            f"{self.sent} requests during the swap ({answered}); {self.failed} failed; "
            f"the load took {self.load_seconds:.2f}s"
        )


async def swap_under_load(
    base_url: str, infer_path: str, model: str, model_uri: str, version: str, rows: pd.DataFrame
) -> SwapReport:
    """Load ``model_uri`` as ``version`` of ``model`` while ``rows`` are sent in a loop."""
    report = SwapReport()
    bodies = [request_body(r, f"swap-{i}") for i, r in enumerate(rows.to_dict("records"))]
    done = asyncio.Event()

    async def worker(session: aiohttp.ClientSession, offset: int) -> None:
        i, after = offset, 0
        while not done.is_set() or after < AFTER:  # and a few more once the swap is done
            after += done.is_set()
            body = dict(bodies[i % len(bodies)], id=f"swap-{i}")
            i += CONCURRENCY
            report.sent += 1
            try:
                async with session.post(base_url + infer_path, json=body) as resp:
                    answer: dict[str, Any] = await resp.json()
                    if resp.status != 200:
                        raise RuntimeError(f"{resp.status}: {answer}")
                report.versions[str(answer.get("model_version"))] += 1
            except Exception as exc:
                report.failed += 1
                report.errors.append(f"{type(exc).__name__}: {exc}")

    async with aiohttp.ClientSession() as session:
        workers = [asyncio.create_task(worker(session, k)) for k in range(CONCURRENCY)]
        await asyncio.sleep(0.2)  # steady traffic first
        start = time.perf_counter()
        params = {"model_path": model_uri, "version": version, "keep_previous": True}
        url = f"{base_url}/v2/repository/models/{model}/load"
        async with session.post(url, json={"parameters": params}) as resp:
            answer = await resp.json()
        report.load_seconds = time.perf_counter() - start
        done.set()
        await asyncio.gather(*workers)
    check(resp.status == 200, f"loading {model_uri} answered {resp.status}: {answer}")
    return report
