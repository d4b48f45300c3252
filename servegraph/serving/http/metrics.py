"""Prometheus metrics of one app, in a registry of its own.

Per model (the ``model`` label is the name in ``/v2/models/{name}``, ``""``
for other paths): requests and errors by status, and latency. Per step (the
graph's top-level steps, timed by :func:`instrument_steps`): latency and
failures. Per model version (``model`` and ``version`` labels, from the model
repository's counters): requests by status and latency of the last requests.

The hot path only bumps plain counters (no locks: the server runs on one
event loop); a prometheus-client custom collector turns them into metric
families when ``/metrics`` is scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from time import perf_counter
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from servegraph.serving.version_stats import VersionStats

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Histogram:
    """Bucket counts and sum of observed seconds (buckets are upper bounds)."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative buckets in prometheus-client's form."""
        result: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), self.counts, strict=True):
            running += count
            result.append(("+Inf" if bound == float("inf") else repr(float(bound)), float(running)))
        return result


class Metrics(Collector):
    """Request and step metrics; ``render()`` is the /metrics body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.requests: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.errors: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.latency: defaultdict[str, Histogram] = defaultdict(Histogram)
        self.step_errors: defaultdict[str, int] = defaultdict(int)
        self.step_latency: defaultdict[str, Histogram] = defaultdict(Histogram)
        # per model version (the model repository's counters, read when scraped)
        self.versions: Callable[[], Mapping[tuple[str, str], VersionStats]] | None = None
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def observe(self, model: str, status: int, seconds: float) -> None:
        """Record one served request."""
        key = (model, str(status))
        self.requests[key] += 1
        if status >= 400:
            self.errors[key] += 1
        self.latency[model].observe(seconds)

    def observe_step(self, step: str, seconds: float, failed: bool = False) -> None:
        """Record one step execution."""
        self.step_latency[step].observe(seconds)
        if failed:
            self.step_errors[step] += 1

    def collect(self) -> Iterator[Metric]:
        """The metric families (prometheus-client's custom collector hook)."""
        families: list[tuple[str, str, list[str], dict[Any, int]]] = [
            ("servegraph_requests", "HTTP requests served, by model and status code.",
             ["model", "status"], dict(self.requests)),
            ("servegraph_errors", "HTTP requests that ended in an error, by model and status.",
             ["model", "status"], dict(self.errors)),
            ("servegraph_step_errors", "Requests failed by a step, by step name.",
             ["step"], {(k,): v for k, v in self.step_errors.items()}),
        ]  # fmt: skip
        for name, doc, labels, values in families:
            counter = CounterMetricFamily(name, doc, labels=labels)
            for key, value in values.items():
                counter.add_metric(list(key), float(value))
            yield counter
        histograms: list[tuple[str, str, str, dict[str, Histogram]]] = [
            ("servegraph_request_latency_seconds", "Time to serve a request, by model.",
             "model", dict(self.latency)),
            ("servegraph_step_latency_seconds", "Time spent in a step, by step name.",
             "step", dict(self.step_latency)),
        ]  # fmt: skip
        for name, doc, label, hists in histograms:
            family = HistogramMetricFamily(name, doc, labels=[label])
            for key, hist in hists.items():
                family.add_metric([key], hist.buckets(), sum_value=hist.total)
            yield family

        yield from self._collect_versions()

    def _collect_versions(self) -> Iterator[Metric]:
        stats = dict(self.versions()) if self.versions is not None else {}
        requests = CounterMetricFamily(
            "servegraph_model_version_requests",
            "Requests served by a model version, by model, version and status code.",
            labels=["model", "version", "status"],
        )
        latency = HistogramMetricFamily(
            "servegraph_model_version_latency_seconds",
            "Time a model version took to serve a request, by model and version.",
            labels=["model", "version"],
        )
        for (model, version), counters in sorted(stats.items()):
            for status, count in sorted(counters.statuses.items()):
                requests.add_metric([model, version, str(status)], float(count))
            hist = Histogram()
            for seconds in counters.latencies:
                hist.observe(seconds)
            latency.add_metric([model, version], hist.buckets(), sum_value=hist.total)
        yield requests
        yield latency

    def render(self) -> bytes:
        return generate_latest(self.registry)


def instrument_steps(plan: Any, metrics: Metrics) -> int:
    """Time every top-level step of a compiled plan (a GraphServer's ``plan``).

    Wraps each node's runners; returns how many steps were wrapped. A step
    that raises is counted as a failure of that step.
    """
    count = 0
    for node in getattr(plan, "nodes", ()):
        node.run = _timed(node.name, node.run, metrics)
        if node.arun is not None:
            node.arun = _atimed(node.name, node.arun, metrics)
        if getattr(node, "body_fn", None) is not None:  # the engines' body-only fast path
            node.body_fn = _timed(node.name, node.body_fn, metrics)
        count += 1
    if getattr(plan, "body_chain", None) is not None:
        plan.body_chain = tuple(node.body_fn for node in plan.chain)
    return count


def _timed(name: str, run: Any, metrics: Metrics) -> Any:
    latency = metrics.step_latency[name]

    def timed(event: Any) -> Any:
        start = perf_counter()
        try:
            return run(event)
        except Exception:
            metrics.step_errors[name] += 1
            raise
        finally:
            latency.observe(perf_counter() - start)

    return timed


def _atimed(name: str, arun: Any, metrics: Metrics) -> Any:
    latency = metrics.step_latency[name]

    async def timed(event: Any) -> Any:
        start = perf_counter()
        try:
            return await arun(event)
        except Exception:
            metrics.step_errors[name] += 1
            raise
        finally:
            latency.observe(perf_counter() - start)

    return timed
