"""Metrics of several worker processes (``servegraph serve --workers N``), in one scrape.

Each worker keeps its counters in memory (the hot path is unchanged) and
writes a snapshot to ``$SERVEGRAPH_METRICS_DIR/worker-<id>.json`` every
``interval`` seconds and at shutdown. ``/metrics``, whichever worker answers,
sums its own live counters and every other worker's last snapshot: counters
of a worker that exited stay counted, as in prometheus-client's multiprocess
mode. Another worker's requests show up within ``interval`` seconds.

>>> metrics = WorkerMetrics(tmp_path, "1")  # doctest: +SKIP
>>> metrics.dump()                          # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client.core import Metric

from servegraph.serving.http.metrics import Histogram, Metrics

METRICS_DIR_ENV = "SERVEGRAPH_METRICS_DIR"
WORKER_ID_ENV = "SERVEGRAPH_WORKER_ID"


def _hist(hist: Histogram) -> dict[str, Any]:
    return {"counts": list(hist.counts), "total": hist.total}


def snapshot(metrics: Metrics) -> dict[str, Any]:
    """The counters of ``metrics`` as a JSON-able dict (see :func:`merge`)."""
    return {
        "requests": [[m, s, n] for (m, s), n in metrics.requests.items()],
        "errors": [[m, s, n] for (m, s), n in metrics.errors.items()],
        "latency": {k: _hist(h) for k, h in metrics.latency.items()},
        "step_errors": dict(metrics.step_errors),
        "step_latency": {k: _hist(h) for k, h in metrics.step_latency.items()},
    }


def _add_hist(target: Histogram, state: Mapping[str, Any]) -> None:
    counts = state.get("counts") or []
    if len(counts) == len(target.counts):
        target.counts = [a + int(b) for a, b in zip(target.counts, counts, strict=True)]
        target.total += float(state.get("total") or 0.0)


def merge(target: Metrics, state: Mapping[str, Any]) -> None:
    """Add a :func:`snapshot` into ``target``."""
    for model, status, count in state.get("requests") or []:
        target.requests[(model, status)] += int(count)
    for model, status, count in state.get("errors") or []:
        target.errors[(model, status)] += int(count)
    for step, count in (state.get("step_errors") or {}).items():
        target.step_errors[step] += int(count)
    for model, hist in (state.get("latency") or {}).items():
        _add_hist(target.latency[model], hist)
    for step, hist in (state.get("step_latency") or {}).items():
        _add_hist(target.step_latency[step], hist)


class WorkerMetrics(Metrics):
    """The metrics of one worker; its scrape covers every worker sharing ``directory``."""

    def __init__(self, directory: str | Path, worker: str) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.worker = worker
        self.path = self.directory / f"worker-{worker}.json"

    def dump(self) -> None:
        """Write this worker's snapshot (atomically: a reader never sees half a file)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(snapshot(self)))
        tmp.replace(self.path)

    def collect(self) -> Iterator[Metric]:
        """Own live counters plus the other workers' last snapshots."""
        total = Metrics()
        merge(total, snapshot(self))
        for path in sorted(self.directory.glob("worker-*.json")):
            if path == self.path:
                continue
            try:
                merge(total, json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # a worker's file being replaced right now: counted next scrape
        yield from Metrics.collect(total)


def metrics_from_env() -> Metrics:
    """:class:`WorkerMetrics` when ``SERVEGRAPH_METRICS_DIR`` is set (a worker), else Metrics."""
    directory = os.environ.get(METRICS_DIR_ENV)
    if not directory:
        return Metrics()
    return WorkerMetrics(directory, os.environ.get(WORKER_ID_ENV) or str(os.getpid()))
