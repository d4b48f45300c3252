"""Wasserstein (earth mover's) distance to the reference, in units of the reference std."""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np

from servegraph.errors import MonitoringError
from servegraph.monitoring.metrics.base import FeatureStats, FloatArray
from servegraph.monitoring.metrics.ks import reference_cdf, sorted_values


class WassersteinDistance:
    """``W1(current, reference) / reference std`` for a numeric feature.

    The reference distribution is its histogram (uniform within a bin). For
    ``n`` current values, the reference is represented by its quantile function
    at the ``n`` levels ``(i + 0.5) / n``; with equal-size samples W1 is the
    mean absolute difference of the sorted samples, so the value equals
    ``scipy.stats.wasserstein_distance(values, quantiles) / std``. A reference
    std of 0 (a constant feature) leaves the distance unnormalised.

    >>> reference = {"hist": [[50, 50], [0.0, 1.0, 2.0]], "std": 0.5}
    >>> metric = WassersteinDistance().fit(reference)
    >>> round(metric.score(metric.quantiles(1000) + 1.0), 9)   # shifted by 2 std
    2.0
    """

    name: ClassVar[str] = "wasserstein"

    edges_: FloatArray
    cdf_: FloatArray
    scale_: float

    def fit(self, reference: FeatureStats) -> Self:
        """Learn the reference CDF and std of one numeric feature."""
        self.edges_, self.cdf_ = reference_cdf(reference)
        std = float(reference.get("std") or 0.0)
        self.scale_ = std if std > 0 else 1.0
        return self

    def quantiles(self, n: int) -> FloatArray:
        """The reference quantile function at the levels ``(i + 0.5) / n``."""
        if not hasattr(self, "cdf_"):
            raise MonitoringError("WassersteinDistance is not fitted: call fit(reference) first")
        result: FloatArray = np.interp((np.arange(n) + 0.5) / n, self.cdf_, self.edges_)
        return result

    def score(self, values: Any) -> float:
        """Normalised Wasserstein distance of ``values`` from the reference."""
        return self.score_sorted(sorted_values(values))

    def score_sorted(self, values: FloatArray) -> float:
        """Normalised Wasserstein distance of already sorted values without NaN."""
        distance = np.abs(values - self.quantiles(values.size)).mean()
        return float(distance) / self.scale_
