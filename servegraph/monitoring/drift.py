"""Per-feature drift of a window of data against an endpoint's reference statistics.

:class:`DriftThresholds` turns one metric's value into a status: below
``possible`` no drift, from ``possible`` possible drift, from ``detected``
drift detected. An endpoint's status is its worst feature's. The reference is
fitted once into a :class:`FittedReference` (bins, CDFs, quantiles) and scored
against any number of windows.

>>> import numpy as np, pandas as pd
>>> from servegraph.featurestore.stats import compute_stats
>>> rng = np.random.default_rng(0)
>>> ref = compute_stats(pd.DataFrame({"a": rng.normal(0, 1, 5000), "b": rng.normal(0, 1, 5000)}))
>>> now = pd.DataFrame({"a": rng.normal(0, 1, 5000), "b": rng.normal(2, 1, 5000)})
>>> [(d.feature, d.status.value) for d in FittedReference(ref).score(now)]
[('a', 'no_drift'), ('b', 'drift_detected')]
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from servegraph.errors import MonitoringError
from servegraph.monitoring.metrics import (
    HISTOGRAM_METRICS,
    METRICS,
    NUMERIC_METRICS,
    HistogramMetric,
    NumericMetric,
    ReferenceBins,
)
from servegraph.monitoring.metrics.base import FloatArray


class DriftStatus(enum.Enum):
    """Verdict for a feature or an endpoint, ordered by severity."""

    NO_DRIFT = "no_drift"
    POSSIBLE_DRIFT = "possible_drift"
    DRIFT_DETECTED = "drift_detected"

    @property
    def severity(self) -> int:
        return list(DriftStatus).index(self)


@dataclass(frozen=True)
class DriftThresholds:
    """Which metric decides the status, and its two thresholds.

    A numeric-only metric (``ks``, ``wasserstein``) falls back to
    ``hellinger`` for categorical features.
    """

    metric: str = "hellinger"
    possible: float = 0.15
    detected: float = 0.3

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise MonitoringError(
                f"The 'metric' parameter of DriftThresholds must be one of "
                f"{', '.join(sorted(METRICS))}. Got {self.metric!r} instead."
            )
        if not 0 <= self.possible <= self.detected:
            raise MonitoringError(
                "The 'possible' and 'detected' parameters of DriftThresholds must satisfy "
                f"0 <= possible <= detected. Got {self.possible!r} and {self.detected!r}."
            )

    def status(self, value: float) -> DriftStatus:
        if value >= self.detected:
            return DriftStatus.DRIFT_DETECTED
        if value >= self.possible:
            return DriftStatus.POSSIBLE_DRIFT
        return DriftStatus.NO_DRIFT


@dataclass
class FeatureDrift:
    """The metric values and status of one feature in one window."""

    feature: str
    metrics: dict[str, float] = field(default_factory=dict)
    status: DriftStatus = DriftStatus.NO_DRIFT
    value: float = 0.0  # the deciding metric's value
    count: int = 0


def worst(statuses: Iterable[DriftStatus]) -> DriftStatus:
    """The most severe status (no drift for none)."""
    return max(statuses, key=lambda s: s.severity, default=DriftStatus.NO_DRIFT)


class FittedReference:
    """Every metric fitted once on an endpoint's reference statistics."""

    def __init__(
        self,
        reference_stats: Mapping[str, Mapping[str, Any]],
        thresholds: DriftThresholds | None = None,
        metrics: Iterable[str] | None = None,
    ) -> None:
        self.thresholds = thresholds or DriftThresholds()
        names = list(metrics) if metrics is not None else list(METRICS)
        names += [n for n in (self.thresholds.metric, "hellinger") if n not in names]
        unknown = [n for n in names if n not in METRICS]
        if unknown:
            raise MonitoringError(
                f"The 'metrics' parameter must name metrics among {', '.join(sorted(METRICS))}. "
                f"Got {unknown}."
            )
        self.bins: dict[str, ReferenceBins] = {}
        self.histogram: dict[str, dict[str, HistogramMetric]] = {}
        self.numeric: dict[str, dict[str, NumericMetric]] = {}
        for feature, stats in reference_stats.items():
            if not stats.get("count"):
                continue
            bins = ReferenceBins.from_stats(stats)
            self.bins[feature] = bins
            self.histogram[feature] = {
                n: HISTOGRAM_METRICS[n]().fit(stats) for n in names if n in HISTOGRAM_METRICS
            }
            if bins.numeric:
                self.numeric[feature] = {
                    n: NUMERIC_METRICS[n]().fit(stats) for n in names if n in NUMERIC_METRICS
                }

    @property
    def features(self) -> list[str]:
        return list(self.bins)

    def score(self, data: pd.DataFrame) -> list[FeatureDrift]:
        """Drift of each reference feature present in ``data`` (features without values skip)."""
        out = []
        for feature, bins in self.bins.items():
            if feature not in data.columns:
                continue
            column = data[feature]
            numeric: FloatArray = np.empty(0)
            if bins.numeric:
                numeric = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
                numeric = np.sort(numeric[~np.isnan(numeric)])  # one sort serves every metric
                size = numeric.size
                counts = bins.counts_sorted(numeric) if size else numeric
            else:
                labels = column.dropna().astype(str).to_numpy()
                size = labels.size
                counts = bins.counts(labels)
            if size == 0:
                continue
            result = FeatureDrift(feature, count=int(size))
            for name, metric in self.histogram[feature].items():
                result.metrics[name] = metric.score_counts(counts)
            for name, numeric_metric in self.numeric.get(feature, {}).items():
                result.metrics[name] = numeric_metric.score_sorted(numeric)
            decider = self.thresholds.metric
            if decider not in result.metrics:
                decider = "hellinger"  # a numeric-only metric on a categorical feature
            result.value = result.metrics[decider]
            result.status = self.thresholds.status(result.value)
            out.append(result)
        return out
