"""Drift metrics, one per module, all following the estimator convention.

Histogram metrics (any feature): :class:`TotalVariationDistance`,
:class:`HellingerDistance`, :class:`KLDivergence`, :class:`PopulationStabilityIndex`.
Numeric features only: :class:`KolmogorovSmirnov`, :class:`WassersteinDistance`.

>>> metric = METRICS["hellinger"]().fit({"hist": [[5, 5], [0.0, 1.0, 2.0]]})
>>> metric.score([0.2, 1.2])
0.0
"""

from __future__ import annotations

from servegraph.monitoring.metrics.base import (
    DriftMetric,
    HistogramMetric,
    NumericMetric,
    ReferenceBins,
)
from servegraph.monitoring.metrics.hellinger import HellingerDistance
from servegraph.monitoring.metrics.kl import KLDivergence
from servegraph.monitoring.metrics.ks import KolmogorovSmirnov
from servegraph.monitoring.metrics.psi import PopulationStabilityIndex
from servegraph.monitoring.metrics.tvd import TotalVariationDistance
from servegraph.monitoring.metrics.wasserstein import WassersteinDistance

__all__ = [
    "HISTOGRAM_METRICS",
    "METRICS",
    "NUMERIC_METRICS",
    "DriftMetric",
    "HellingerDistance",
    "HistogramMetric",
    "KLDivergence",
    "KolmogorovSmirnov",
    "NumericMetric",
    "PopulationStabilityIndex",
    "ReferenceBins",
    "TotalVariationDistance",
    "WassersteinDistance",
]

HISTOGRAM_METRICS: dict[str, type[HistogramMetric]] = {
    cls.name: cls
    for cls in (
        TotalVariationDistance,
        HellingerDistance,
        KLDivergence,
        PopulationStabilityIndex,
    )
}
NUMERIC_METRICS: dict[str, type[NumericMetric]] = {
    "ks": KolmogorovSmirnov,
    "wasserstein": WassersteinDistance,
}
METRICS: dict[str, type[DriftMetric]] = {**HISTOGRAM_METRICS, **NUMERIC_METRICS}
