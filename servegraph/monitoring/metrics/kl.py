"""Kullback-Leibler divergence of the current bin probabilities from the reference."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from servegraph.monitoring.metrics.base import FloatArray, HistogramMetric, smoothed


class KLDivergence(HistogramMetric):
    """``KL(current || reference) = sum(q * ln(q / p))`` in nats, >= 0.

    Both distributions get ``eps`` added to every bin (then renormalised) so a
    bin empty on one side keeps the value finite.

    >>> reference = {"hist": [[50, 50], [0.0, 1.0, 2.0]]}
    >>> KLDivergence().fit(reference).score([0.5, 1.5])
    0.0
    >>> round(KLDivergence(eps=1e-4).fit(reference).score([0.5, 0.5, 0.5, 1.5]), 6)
    0.130731
    """

    name: ClassVar[str] = "kl"

    def __init__(self, *, eps: float = 1e-4) -> None:
        self.eps = eps

    def _distance(self, reference: FloatArray, current: FloatArray) -> float:
        p, q = smoothed(reference, self.eps), smoothed(current, self.eps)
        return float(np.sum(q * np.log(q / p)))
