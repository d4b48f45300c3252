from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import kstest

from servegraph.errors import MonitoringError
from servegraph.monitoring.metrics import KolmogorovSmirnov

from .conftest import Array


def test_equals_the_sup_distance_of_the_cdfs(reference: dict[str, Any], current: Array) -> None:
    counts, edges = (np.asarray(a, dtype=float) for a in reference["hist"])
    cum = np.concatenate(([0.0], np.cumsum(counts))) / counts.sum()
    x = np.sort(current)
    ref_cdf = np.interp(x, edges, cum)
    n = x.size
    expected = max(np.max(np.arange(1, n + 1) / n - ref_cdf), np.max(ref_cdf - np.arange(n) / n))
    metric = KolmogorovSmirnov().fit(reference)
    assert metric.score(current) == pytest.approx(expected, abs=1e-9)
    assert metric.score(current) == pytest.approx(kstest(current, metric.cdf).statistic, abs=1e-9)


def test_categorical_reference_is_rejected() -> None:
    with pytest.raises(MonitoringError, match="numeric feature"):
        KolmogorovSmirnov().fit({"hist": [[3, 1], ["a", "b"]]})
