from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from servegraph.errors import MonitoringError
from servegraph.monitoring.metrics import WassersteinDistance

from .conftest import Array


def test_equals_scipy_against_the_reference_quantiles(
    reference: dict[str, Any], current: Array
) -> None:
    counts, edges = (np.asarray(a, dtype=float) for a in reference["hist"])
    cum = np.concatenate(([0.0], np.cumsum(counts))) / counts.sum()
    quantiles = np.interp((np.arange(current.size) + 0.5) / current.size, cum, edges)
    expected = wasserstein_distance(current, quantiles) / reference["std"]
    metric = WassersteinDistance().fit(reference)
    assert metric.score(current) == pytest.approx(expected, abs=1e-9)


def test_a_shift_reads_in_reference_stds(reference: dict[str, Any]) -> None:
    rng = np.random.default_rng(3)
    metric = WassersteinDistance().fit(reference)
    for shift in (0.5, 1.0, 2.0):
        values = rng.normal(10.0 + shift * 2.0, 2.0, 20000)
        assert metric.score(values) == pytest.approx(shift, abs=0.05)


def test_unfitted_metric_raises() -> None:
    with pytest.raises(MonitoringError, match="not fitted"):
        WassersteinDistance().score([1.0])
