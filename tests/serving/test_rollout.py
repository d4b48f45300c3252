"""Live rollout against a running ``servegraph serve``: a new version under steady load.

The model of each version is a ``store://models/...`` artifact; its load is
slow and sets its weights in two steps, so a request answered by a
half-loaded model would fail or give a wrong answer.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import aiohttp

from servegraph.functions.context import build_context
from tests.serve_process import serve_process

APP = textwrap.dedent(
    """
    import time

    import servegraph
    from servegraph.serving.v2_serving import V2ModelServer


    class Weights(V2ModelServer):
        def load(self):
            path, _ = self.get_model(".txt")
            self.factor = None
            time.sleep(0.5)  # reading big weights
            self.factor = float(open(path).read())

        def predict(self, request):
            return [row[0] * self.factor for row in request["inputs"]]


    fn = servegraph.new_function("roll", kind="serving", project="shop")
    fn.set_topology("router")
    fn.add_model("m:v1", class_name=Weights, model_path="store://models/shop/weights:v1")
    """
)
FACTORS = {"v1": 1.0, "v2": 2.0}


def _log_versions() -> None:
    for version, factor in FACTORS.items():  # one training run per version
        ctx = build_context("train", {"metadata": {"project": "shop"}})
        ctx.log_model("weights", body=str(factor).encode(), model_file="w.txt", tag=version)


async def _steady_load(
    session: aiohttp.ClientSession, url: str, stop: asyncio.Event, results: list[Any]
) -> None:
    x = 0.0
    while not stop.is_set():
        x += 1
        try:
            async with session.post(url, json={"inputs": [[x]]}) as resp:
                body = await resp.json()
                results.append((resp.status, x, body))
        except aiohttp.ClientError as exc:
            results.append((0, x, str(exc)))


async def _rollout(base: str) -> tuple[list[Any], list[Any], Any]:
    before: list[Any] = []
    during: list[Any] = []
    async with aiohttp.ClientSession() as session:
        stop = asyncio.Event()
        url = f"{base}/v2/models/m/infer"
        workers = [asyncio.create_task(_steady_load(session, url, stop, during)) for _ in range(8)]
        await asyncio.sleep(0.3)
        before.extend(during)
        params = {"model_path": "store://models/shop/weights:v2", "version": "v2"}
        async with session.post(
            f"{base}/v2/repository/models/m/load", json={"parameters": params}
        ) as resp:
            assert resp.status == 200, await resp.text()
        swapped_at = len(during)
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*workers)
        async with session.post(f"{base}/v2/repository/index") as resp:
            index = await resp.json()
        async with session.get(f"{base}/metrics") as resp:
            metrics = await resp.text()
    return during, during[swapped_at:], (index, metrics)


def test_swap_under_steady_load_fails_no_request(tmp_path: Path) -> None:
    _log_versions()
    (tmp_path / "app.py").write_text(APP)
    with serve_process(tmp_path / "app.py", tmp_path) as base:
        results, after, (index, metrics) = asyncio.run(_rollout(base))
    failed = [r for r in results if r[0] != 200]
    assert failed == []
    versions = {body["model_version"] for _, _, body in results}
    assert versions == {"v1", "v2"}
    for _, x, body in results:  # each answer is whole: the factor of the version that gave it
        assert body["outputs"] == [x * FACTORS[body["model_version"]]]
    # once load answered, the old version is gone (requests sent before may still finish on it)
    assert {body["model_version"] for _, _, body in after[8:]} == {"v2"}
    assert [(e["name"], e["version"], e["default"]) for e in index] == [("m", "v2", True)]
    assert 'servegraph_model_version_requests_total{model="m",status="200",version="v2"}' in metrics
