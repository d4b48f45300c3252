"""Prometheus metrics of one app, in a registry of its own.

Per model (the ``model`` label is the name in ``/v2/models/{name}``, ``""``
for other paths): requests by status, errors by status, latency. Per step
(the graph's top-level steps, timed by :func:`instrument_steps`): latency and
failures.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    """Counters and histograms of requests and steps; ``render()`` is the /metrics body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self._children: dict[tuple[str, int], tuple[Any, Any, Any]] = {}
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
        children = self._children.get((model, status))
        if children is None:
            code = str(status)
            children = self._children[(model, status)] = (
                self.requests.labels(model, code),
                self.errors.labels(model, code) if status >= 400 else None,
                self.latency.labels(model),
            )
        requests, errors, latency = children
        requests.inc()
        if errors is not None:
            errors.inc()
        latency.observe(seconds)

    def observe_step(self, step: str, seconds: float, failed: bool = False) -> None:
        """Record one step execution (a hook the graph engine may call)."""
        self.step_latency.labels(step).observe(seconds)
        if failed:
            self.step_errors.labels(step).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def instrument_steps(plan: Any, metrics: Metrics) -> int:
    """Time every top-level step of a compiled plan (a GraphServer's ``plan``).

    Wraps each node's sync and async runners; returns how many were wrapped.
    A step that raises is counted as a step error by its own name.
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
    latency = metrics.step_latency.labels(name)
    errors = metrics.step_errors.labels(name)

    def timed(event: Any) -> Any:
        start = perf_counter()
        try:
            return run(event)
        except Exception:
            errors.inc()
            raise
        finally:
            latency.observe(perf_counter() - start)

    return timed


def _atimed(name: str, arun: Any, metrics: Metrics) -> Any:
    latency = metrics.step_latency.labels(name)
    errors = metrics.step_errors.labels(name)

    async def timed(event: Any) -> Any:
        start = perf_counter()
        try:
            return await arun(event)
        except Exception:
            errors.inc()
            raise
        finally:
            latency.observe(perf_counter() - start)

    return timed
