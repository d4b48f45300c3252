"""servegraph demo: the whole loop, end to end, on this machine.

1. generate customers and card transactions with a fraud label
2. feature sets with windowed aggregations, ingested offline and online
3. train a model as a tracked run on a feature vector
4. serve enrich -> prep -> router -> model -> decide over HTTP, with tracking
5. send requests like the training data, then shifted ones
6. run the monitoring job: drift table, plot, alert on the shifted features
7. the alert's retraining run registers v2; the SAME running server loads it
   under load (V2 model-repository extension): no restart, no failed request
8. print the lineage of that prediction

At the end it prints how to look at all of it in the dashboard (``servegraph
ui``); with ``--ui`` it serves the dashboard itself until interrupted.

Embedded defaults (SQLite, Parquet, file streams under $SERVEGRAPH_HOME), or
Redis::

    python examples/demo.py
    python examples/demo.py --online redis://127.0.0.1:6379 --stream redis://127.0.0.1:6379/demo

Exits non-zero, naming the step, if any step does not do what it should.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pandas as pd
from rich.console import Console

from demo_steps import DemoError, check
from demo_steps.data import SHIFTED_FEATURES, DemoData, generate
from demo_steps.features import build_and_ingest
from demo_steps.lineage import lineage
from demo_steps.monitor import drift_report, monitoring_job, run_check
from demo_steps.retrain import NEW_VERSION, retrain_trigger, retrained_model
from demo_steps.rollout import swap_under_load
from demo_steps.serving import MODEL, Served, build_function, serve_http
from demo_steps.traffic import post, request_body, send
from demo_steps.training import train_model
from servegraph.config import get_config
from servegraph.errors import ServegraphError
from servegraph.monitoring.job import MonitoringJob
from servegraph.monitoring.tracking import default_stream_url

INFER = f"/v2/models/{MODEL}/infer"
REQUESTS_PER_WAVE = 1500

console = Console()


@dataclass
class Settings:
    """The command line, resolved."""

    project: str
    scale: float
    online: str
    stream: str
    out_dir: Path
    ui: bool = False
    ui_port: int = 8060

    @property
    def requests(self) -> int:
        """Requests per wave."""
        return max(300, int(REQUESTS_PER_WAVE * self.scale))


@contextmanager
def step(number: int, title: str) -> Iterator[None]:
    """Print the step's header and duration; a failure names the step."""
    console.rule(f"[bold]{number}. {title}")
    start = time.perf_counter()
    try:
        yield
    except Exception as exc:
        raise DemoError(f"step {number} ({title}) failed: {type(exc).__name__}: {exc}") from exc
    console.print(f"[dim]step {number} took {time.perf_counter() - start:.1f}s[/]")


def sample(rows: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Up to ``n`` distinct rows, reproducibly."""
    return rows.sample(n=min(n, len(rows)), random_state=seed)


async def send_waves(
    settings: Settings, data: DemoData, served: Served, check_job: MonitoringJob
) -> None:
    """Step 5: a wave like the training data (checked: no drift), then a shifted wave."""
    live = sample(data.live, settings.requests, seed=1)
    wave = await send(served.url, live, "live", INFER)
    console.print(f"like the training data: {wave.summary()}")
    await served.flush()
    console.print("monitoring check after the first wave:")
    await run_check(console, check_job, served.endpoints["v1"], expected_drift=set())
    recent = sample(data.recent, settings.requests, seed=2)
    wave = await send(served.url, recent, "shifted", INFER)
    console.print(f"shifted ({', '.join(SHIFTED_FEATURES)}): {wave.summary()}")
    await served.flush()


async def compare_versions(served: Served, rows: pd.DataFrame) -> None:
    """Step 7: v1 and v2 (both loaded in the same server) on legitimate transactions of the
    shifted period; v2 must do better."""
    flagged = {}
    for version, route in (("v1", f"/v2/models/{MODEL}/versions/v1/infer"), ("v2", INFER)):
        wave = await send(served.url, rows, f"legit-{version}", route)
        check(wave.versions == {version: wave.sent}, f"{route} answered {wave.versions}")
        flagged[version] = wave.flagged
        console.print(
            f"{route}: {version} flags {wave.flagged} of {wave.sent} legitimate "
            "transactions of the shifted period"
        )
    check(flagged["v2"] < flagged["v1"], f"v2 is no better than v1 on the new data: {flagged}")


async def run(settings: Settings) -> None:
    console.print(
        f"project [bold]{settings.project}[/]; state in {get_config().home}; "
        f"online store {settings.online}; tracking stream {settings.stream}"
    )
    with step(1, "generate customers and transactions"):
        data = generate(settings.out_dir / "data", settings.scale)
        console.print(
            f"{len(data.customers)} customers; {len(data.history)} transactions "
            f"({data.history['is_fraud'].mean():.1%} fraud) in {data.history_path}"
        )

    with step(2, "define and ingest the feature sets"):
        features = build_and_ingest(settings.project, data.customers, data.history, settings.online)
        vector = features.vector.uri
        console.print(f"feature vector {vector}: {', '.join(features.columns)}")

    with step(3, "train the model as a tracked run"):
        v1 = train_model(settings.project, data.history_path, vector, "v1")
        console.print(f"run {v1.run_uid} registered {v1.uri}: {v1.summary()}")

    retrain = retrain_trigger(settings.project, vector, data.recent_path)
    check_job = monitoring_job(settings.project, settings.stream, settings.out_dir, retrain, False)
    job = monitoring_job(settings.project, settings.stream, settings.out_dir, retrain)
    async with AsyncExitStack() as stack:
        with step(4, "serve the graph over HTTP"):
            fn = build_function(settings.project, vector, [v1], settings.stream)
            fn.save()  # the dashboard draws the saved graph
            console.print(fn.spec.graph.plot())
            served = await stack.enter_async_context(serve_http(fn, [v1]))
            console.print(f"serving {fn.uri} at {served.url}")

        with step(5, "send requests: like the training data, then shifted"):
            await send_waves(settings, data, served, check_job)

        with step(6, "run the monitoring job"):
            report, _ = await run_check(
                console, job, served.endpoints["v1"], expected_drift=set(SHIFTED_FEATURES)
            )
            for path in drift_report(report):
                console.print(f"wrote {path}")

        with step(7, "retrain from the alert; the running server switches to v2"):
            v2 = retrained_model(settings.project, report)
            console.print(f"run {v2.run_uid} registered {v2.uri}: {v2.summary()}")
            legit = sample(data.recent[data.recent["is_fraud"] == 0], 100, seed=3)
            swap = await swap_under_load(served.url, INFER, MODEL, v2.uri, v2.version, legit)
            console.print(f"same server, no restart: {swap.summary()}")
            check(swap.failed == 0, f"{swap.failed} requests failed during the swap: {swap.errors}")
            check(swap.versions.get(NEW_VERSION, 0) > 0, f"v2 answered none: {swap.versions}")
            # the function as it is served now (both versions), for the dashboard
            build_function(settings.project, vector, [v1, v2], settings.stream).save()
            await compare_versions(served, legit)
            async with aiohttp.ClientSession() as session:
                body = request_body(legit.iloc[0].to_dict(), "legit-1")
                answer = await post(session, served.url + INFER, body)
            console.print(f"POST {INFER} -> {answer}")
            check(
                answer.get("model_version") == NEW_VERSION,
                f"{INFER} was answered by {answer.get('model_version')}, not {NEW_VERSION}",
            )

        with step(8, "the lineage of one prediction"):
            console.print(lineage(settings.project, answer))


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--online", help="online feature store URL (default: embedded SQLite)")
    parser.add_argument("--stream", help="tracking stream URL (default: embedded file log)")
    parser.add_argument("--scale", type=float, default=1.0, help="data and traffic size factor")
    parser.add_argument(
        "--project", help="project name, new for each run (default: fraud-demo-<time>)"
    )
    parser.add_argument("--ui", action="store_true", help="then serve the dashboard")
    parser.add_argument("--ui-port", type=int, default=8060, help="the dashboard's port")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error(f"--scale must be positive, got {args.scale}")
    project = args.project or f"fraud-demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    online = args.online or get_config().online_store
    stream = args.stream or default_stream_url()
    out_dir = get_config().home / "demo" / project
    return Settings(project, args.scale, online, stream, out_dir, args.ui, args.ui_port)


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    start = time.perf_counter()
    try:
        asyncio.run(run(settings))
    except DemoError as exc:
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, DemoError | ServegraphError):
            console.print_exception()  # a bug rather than a failed check: show where
        console.print(f"[bold red]demo FAILED[/]: {exc}")
        return 1
    took = time.perf_counter() - start
    monitoring = settings.out_dir / "monitoring"
    url = f"http://127.0.0.1:{settings.ui_port}/#/runs?project={settings.project}"
    if not settings.ui:
        console.print(
            f"dashboard: [bold]servegraph ui --monitoring-path {monitoring}[/], then open {url} "
            "(or make demo UI=1)"
        )
    console.print(f"[bold green]demo OK[/] in {took:.0f}s")
    if settings.ui:
        serve_dashboard(monitoring, settings.ui_port, url)
    return 0


def serve_dashboard(monitoring: Path, port: int, url: str) -> None:
    """Serve the dashboard over the demo's state until interrupted."""
    from aiohttp import web

    from servegraph.ui import make_app

    console.print(f"dashboard on [bold]{url}[/] (Ctrl-C to stop)")
    web.run_app(make_app(monitoring_paths=[monitoring]), host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    sys.exit(main())
