"""Prometheus metrics of one app, in a registry of its own.

Per model (the ``model`` label is the name in ``/v2/models/{name}``, ``""``
for other paths): requests by status, errors by status, latency. Per step:
failures (from StepError) and, when the graph reports them, step latencies.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    """Counters and histograms of requests and steps; ``render()`` is the /metrics body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "servegraph_requests",
            "HTTP requests served, by model and status code.",
            ["model", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "servegraph_errors",
            "HTTP requests that ended in an error, by model and status code.",
            ["model", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "servegraph_request_latency_seconds",
            "Time to serve a request, by model.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.step_errors = Counter(
            "servegraph_step_errors",
            "Requests failed by a step, by step name.",
            ["step"],
            registry=self.registry,
        )
        self.step_latency = Histogram(
            "servegraph_step_latency_seconds",
            "Time spent in a step, by step name.",
            ["step"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, model: str, status: int, seconds: float) -> None:
        """Record one served request."""
        code = str(status)
        self.requests.labels(model, code).inc()
        if status >= 400:
            self.errors.labels(model, code).inc()
        self.latency.labels(model).observe(seconds)

    def observe_step(self, step: str, seconds: float, failed: bool = False) -> None:
        """Record one step execution (a hook the graph engine may call)."""
        self.step_latency.labels(step).observe(seconds)
        if failed:
            self.step_errors.labels(step).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
