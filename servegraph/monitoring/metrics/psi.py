"""Population stability index over the reference bins."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from servegraph.monitoring.metrics.base import FloatArray, HistogramMetric, smoothed


class PopulationStabilityIndex(HistogramMetric):
    """``PSI = sum((q - p) * ln(q / p))``; by custom < 0.1 stable, > 0.25 shifted.

    Both distributions get ``eps`` added to every bin (then renormalised).

    >>> reference = {"hist": [[50, 50], [0.0, 1.0, 2.0]]}
    >>> PopulationStabilityIndex().fit(reference).score([0.5, 1.5])
    0.0
    >>> round(PopulationStabilityIndex().fit(reference).score([0.5, 0.5, 0.5, 1.5]), 6)
    0.274477
    """

    name: ClassVar[str] = "psi"

    def __init__(self, *, eps: float = 1e-4) -> None:
        self.eps = eps

    def _distance(self, reference: FloatArray, current: FloatArray) -> float:
        p, q = smoothed(reference, self.eps), smoothed(current, self.eps)
        return float(np.sum((q - p) * np.log(q / p)))
