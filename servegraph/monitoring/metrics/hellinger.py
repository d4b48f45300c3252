"""Hellinger distance between bin probabilities, in [0, 1]."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from servegraph.monitoring.metrics.base import FloatArray, HistogramMetric


class HellingerDistance(HistogramMetric):
    """``sqrt(1 - sum(sqrt(p * q)))`` over the reference bins (0 same, 1 disjoint).

    >>> reference = {"hist": [[50, 50], [0.0, 1.0, 2.0]]}
    >>> round(HellingerDistance().fit(reference).score([0.5, 1.5]), 12)
    0.0
    >>> HellingerDistance().fit(reference).score([5.0, 6.0])
    1.0
    """

    name: ClassVar[str] = "hellinger"

    def _distance(self, reference: FloatArray, current: FloatArray) -> float:
        overlap = float(np.sqrt(reference * current).sum())
        return float(np.sqrt(max(0.0, 1.0 - overlap)))
