"""The metrics collector: counts, cumulative buckets, and valid Prometheus text."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from servegraph.serving.http.metrics import Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_requests_errors_and_latency_buckets() -> None:
    metrics = Metrics()
    metrics.observe("m", 200, 0.0004)
    metrics.observe("m", 200, 0.003)
    metrics.observe("m", 503, 7.0)
    metrics.observe_step("prep", 0.001)
    metrics.observe_step("prep", 0.02, failed=True)
    samples = _samples(metrics)
    assert samples[("servegraph_requests_total", (("model", "m"), ("status", "200")))] == 2
    assert samples[("servegraph_errors_total", (("model", "m"), ("status", "503")))] == 1
    assert ("servegraph_errors_total", (("model", "m"), ("status", "200"))) not in samples
    bucket = "servegraph_request_latency_seconds_bucket"
    assert samples[(bucket, (("le", "0.0005"), ("model", "m")))] == 1
    assert samples[(bucket, (("le", "0.005"), ("model", "m")))] == 2
    assert samples[(bucket, (("le", "5.0"), ("model", "m")))] == 2
    assert samples[(bucket, (("le", "+Inf"), ("model", "m")))] == 3
    assert samples[("servegraph_request_latency_seconds_count", (("model", "m"),))] == 3
    assert (
        abs(samples[("servegraph_request_latency_seconds_sum", (("model", "m"),))] - 7.0034) < 1e-9
    )
    assert samples[("servegraph_step_latency_seconds_count", (("step", "prep"),))] == 2
    assert samples[("servegraph_step_errors_total", (("step", "prep"),))] == 1


def test_an_empty_collector_renders() -> None:
    assert b"servegraph_requests" in Metrics().render()


def test_worker_metrics_cover_every_worker_of_the_directory(tmp_path: Any) -> None:
    from servegraph.serving.http.metrics_shared import WorkerMetrics

    first, second = WorkerMetrics(tmp_path, "0"), WorkerMetrics(tmp_path, "1")
    first.observe("m", 200, 0.001)
    first.observe_step("prep", 0.001, failed=True)
    second.observe("m", 200, 0.002)
    second.observe("m", 500, 0.003)
    assert _samples(second)[("servegraph_requests_total", (("model", "m"), ("status", "200")))] == 1
    first.dump()  # what a worker does every 0.5 s and at shutdown
    samples = _samples(second)
    assert samples[("servegraph_requests_total", (("model", "m"), ("status", "200")))] == 2
    assert samples[("servegraph_errors_total", (("model", "m"), ("status", "500")))] == 1
    assert samples[("servegraph_request_latency_seconds_count", (("model", "m"),))] == 3
    assert samples[("servegraph_step_errors_total", (("step", "prep"),))] == 1
    second.observe("m", 200, 0.002)  # its own counters are live, not its last dump
    second.dump()
    assert _samples(first)[("servegraph_requests_total", (("model", "m"), ("status", "200")))] == 3
