"""Wasserstein (earth mover's) distance to the reference, in units of the reference std."""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
from scipy import stats as scipy_stats

from servegraph.errors import MonitoringError
from servegraph.monitoring.metrics.base import FeatureStats, FloatArray
from servegraph.monitoring.metrics.ks import _values, reference_cdf


class WassersteinDistance:
    """``W1(current, reference) / reference std`` for a numeric feature.

    The reference distribution is its histogram (uniform within a bin),
    represented by its quantile function at ``n_quantiles`` evenly spaced
    levels; ``scipy.stats.wasserstein_distance`` does the rest. A reference
    std of 0 (a constant feature) leaves the distance unnormalised.

    >>> reference = {"hist": [[50, 50], [0.0, 1.0, 2.0]], "std": 0.5}
    >>> metric = WassersteinDistance().fit(reference)
    >>> round(metric.score(metric.quantiles_ + 1.0), 9)   # shifted by 2 std
    2.0
    """

    name: ClassVar[str] = "wasserstein"

    quantiles_: FloatArray
    scale_: float

    def __init__(self, *, n_quantiles: int = 1000) -> None:
        self.n_quantiles = n_quantiles

    def fit(self, reference: FeatureStats) -> Self:
        """Learn the reference quantiles and std of one numeric feature."""
        if not isinstance(self.n_quantiles, int) or self.n_quantiles < 2:
            raise MonitoringError(
                "The 'n_quantiles' parameter of WassersteinDistance must be an int >= 2. "
                f"Got {self.n_quantiles!r} instead."
            )
        edges, cum = reference_cdf(reference)
        levels = (np.arange(self.n_quantiles) + 0.5) / self.n_quantiles
        self.quantiles_ = np.interp(levels, cum, edges)
        std = float(reference.get("std") or 0.0)
        self.scale_ = std if std > 0 else 1.0
        return self

    def score(self, values: Any) -> float:
        """Normalised Wasserstein distance of ``values`` from the reference."""
        if not hasattr(self, "quantiles_"):
            raise MonitoringError("WassersteinDistance is not fitted: call fit(reference) first")
        distance = scipy_stats.wasserstein_distance(_values(values), self.quantiles_)
        return float(distance) / self.scale_
