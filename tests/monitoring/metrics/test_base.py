from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import servegraph.monitoring.metrics as metrics_pkg
from servegraph.errors import MonitoringError
from servegraph.monitoring.metrics import METRICS, HellingerDistance, ReferenceBins


def test_numeric_bins_have_overflow_bins_and_a_closed_last_bin() -> None:
    bins = ReferenceBins.from_stats({"hist": [[2, 2], [0.0, 1.0, 2.0]]})
    counts = bins.counts([-5.0, 0.0, 0.99, 1.0, 2.0, 2.01, np.nan])
    assert counts.tolist() == [1.0, 2.0, 2.0, 1.0]


def test_counting_sorted_values_equals_counting_values() -> None:
    bins = ReferenceBins.from_stats({"hist": [[2, 2, 2], [0.0, 1.0, 2.0, 3.0]]})
    values = np.random.default_rng(1).normal(1.5, 1.5, 1000)
    values = np.concatenate((values, [0.0, 1.0, 3.0, 3.0]))
    assert bins.counts_sorted(np.sort(values)).tolist() == bins.counts(values).tolist()


def test_categorical_bins_have_an_unseen_bin() -> None:
    bins = ReferenceBins.from_stats({"hist": [[5, 3], ["a", "b"]]})
    assert bins.categories == {"a": 0, "b": 1}
    assert bins.counts(["a", "c", "b", "b", None, "zz"]).tolist() == [1.0, 2.0, 2.0]
    score = HellingerDistance().fit({"hist": [[5, 3], ["a", "b"]]}).score(["a"] * 5 + ["b"] * 3)
    assert score == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("stats", [{}, {"hist": [[], []]}, {"hist": [[1, 2, 3], [0.0, 1.0]]}, "x"])
def test_malformed_reference_is_named(stats: object) -> None:
    with pytest.raises(MonitoringError, match="'reference'"):
        HellingerDistance().fit(stats)  # type: ignore[arg-type]


def test_empty_current_window_and_unfitted_metric_raise() -> None:
    metric = HellingerDistance().fit({"hist": [[1, 1], [0.0, 1.0, 2.0]]})
    with pytest.raises(MonitoringError, match="current window has no values"):
        metric.score([])
    with pytest.raises(MonitoringError, match="not fitted"):
        HellingerDistance().score([1.0])


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metrics_follow_the_estimator_convention(name: str) -> None:
    metric = METRICS[name]()
    assert all(not k.endswith("_") for k in vars(metric)), "__init__ stores parameters only"
    metric.fit({"hist": [[1, 2], [0.0, 1.0, 2.0]], "std": 1.0})
    assert any(k.endswith("_") for k in vars(metric)), "fit learns state ending in _"
    assert metric.score([0.5, 1.5, 1.7]) >= 0.0


def test_doctests_of_every_metric_module_pass() -> None:
    modules = [metrics_pkg] + [
        importlib.import_module(f"{metrics_pkg.__name__}.{info.name}")
        for info in pkgutil.iter_modules(metrics_pkg.__path__)
    ]
    for module in modules:
        result = doctest.testmod(module, raise_on_error=False)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, f"{module.__name__} has no doctest"
