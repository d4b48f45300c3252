"""Total variation distance: half the L1 distance between bin probabilities, in [0, 1]."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from servegraph.monitoring.metrics.base import FloatArray, HistogramMetric


class TotalVariationDistance(HistogramMetric):
    """``0.5 * sum(|p - q|)`` over the reference bins (0 same, 1 disjoint).

    >>> reference = {"hist": [[50, 50], [0.0, 1.0, 2.0]]}
    >>> TotalVariationDistance().fit(reference).score([0.5, 0.5, 1.5, 2.5])
    0.25
    """

    name: ClassVar[str] = "tvd"

    def _distance(self, reference: FloatArray, current: FloatArray) -> float:
        return float(0.5 * np.abs(reference - current).sum())
