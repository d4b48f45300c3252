"""Kolmogorov-Smirnov statistic of current values against the reference histogram."""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np

from servegraph.errors import MonitoringError
from servegraph.monitoring.metrics.base import FeatureStats, FloatArray, ReferenceBins


def reference_cdf(reference: FeatureStats) -> tuple[FloatArray, FloatArray]:
    """Edges and cumulative probabilities of a numeric reference histogram.

    The reference CDF is piecewise linear between edges (uniform within a bin).

    >>> edges, cum = reference_cdf({"hist": [[1, 3], [0.0, 1.0, 2.0]]})
    >>> cum.tolist()
    [0.0, 0.25, 1.0]
    """
    bins = ReferenceBins.from_stats(reference)
    if bins.edges is None:
        raise MonitoringError(
            "The 'reference' parameter must be a numeric feature's statistics (a histogram "
            "with edges) for KS and Wasserstein. Got a categorical histogram."
        )
    counts = bins.reference_counts[1:-1]
    if counts.sum() <= 0:
        raise MonitoringError("cannot compute drift: the reference has no values")
    cum = np.concatenate(([0.0], np.cumsum(counts))) / counts.sum()
    return bins.edges, cum


def sorted_values(values: Any) -> FloatArray:
    """The non-missing values, sorted; an empty window is an error."""
    data = np.asarray(values, dtype=np.float64)
    data = np.sort(data[~np.isnan(data)])
    if data.size == 0:
        raise MonitoringError("cannot compute drift: the current window has no values")
    return data


class KolmogorovSmirnov:
    """``sup |F_current(x) - F_reference(x)|``, the one-sample KS statistic, in [0, 1].

    ``F_reference`` is the piecewise-linear CDF of the reference histogram
    (:func:`reference_cdf`); the value equals
    ``scipy.stats.kstest(values, metric.cdf).statistic``, computed on the
    sorted values, which the monitoring job shares between metrics.

    >>> reference = {"hist": [[50, 50], [0.0, 1.0, 2.0]]}
    >>> KolmogorovSmirnov().fit(reference).score([0.5, 1.0, 1.5])
    0.25
    >>> KolmogorovSmirnov().fit(reference).score([3.0, 4.0])
    1.0
    """

    name: ClassVar[str] = "ks"

    edges_: FloatArray
    cdf_: FloatArray

    def fit(self, reference: FeatureStats) -> Self:
        """Learn the reference CDF of one numeric feature."""
        self.edges_, self.cdf_ = reference_cdf(reference)
        return self

    def cdf(self, x: Any) -> FloatArray:
        """The reference CDF at ``x``."""
        result: FloatArray = np.interp(x, self.edges_, self.cdf_)
        return result

    def score(self, values: Any) -> float:
        """KS statistic of ``values`` against the reference."""
        return self.score_sorted(sorted_values(values))

    def score_sorted(self, values: FloatArray) -> float:
        """KS statistic of already sorted values without NaN."""
        if not hasattr(self, "cdf_"):
            raise MonitoringError("KolmogorovSmirnov is not fitted: call fit(reference) first")
        n = values.size
        reference = self.cdf(values)
        above = np.arange(1, n + 1) / n - reference
        below = reference - np.arange(n) / n
        return float(max(above.max(), below.max()))
