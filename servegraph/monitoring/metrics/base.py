"""What every drift metric shares: the reference binning and the estimator shape.

A metric follows the estimator convention: ``__init__`` stores keyword
parameters only; ``fit(reference)`` learns from one feature's reference
statistics (the :func:`servegraph.featurestore.stats.compute_stats` format) and
sets attributes ending in ``_``; ``score(values)`` returns the distance of the
current values from the reference. Histogram metrics compare bin
probabilities: the reference histogram's bins plus one overflow bin on each
side for numeric features (values outside the reference range), or the
reference categories plus one bin for unseen values.

>>> bins = ReferenceBins.from_stats({"hist": [[3, 1], [0.0, 1.0, 2.0]]})
>>> bins.reference_counts.tolist(), bins.counts([-1.0, 0.5, 2.0, 7.0]).tolist()
([0.0, 3.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

import numpy as np
import numpy.typing as npt

from servegraph.errors import MonitoringError

FloatArray = npt.NDArray[np.float64]
FeatureStats = Mapping[str, Any]


@dataclass(frozen=True)
class ReferenceBins:
    """The bins of one feature's reference histogram, and its counts over them."""

    reference_counts: FloatArray
    edges: FloatArray | None = None  # numeric features
    categories: dict[str, int] | None = None  # categorical features: value -> bin

    @classmethod
    def from_stats(cls, stats: FeatureStats) -> ReferenceBins:
        """Read the ``hist`` of a feature's reference statistics."""
        hist = stats.get("hist") if isinstance(stats, Mapping) else None
        if not isinstance(hist, Sequence) or len(hist) != 2 or not len(hist[0]):
            raise MonitoringError(
                "The 'reference' parameter must be a feature's statistics with a non-empty "
                f"'hist' of [counts, edges or values]. Got {stats!r} instead."
            )
        counts = np.asarray(hist[0], dtype=np.float64)
        labels = hist[1]
        if len(labels) == len(counts) + 1 and all(
            isinstance(e, int | float) and not isinstance(e, bool) for e in labels
        ):
            padded = np.concatenate(([0.0], counts, [0.0]))
            return cls(padded, edges=np.asarray(labels, dtype=np.float64))
        if len(labels) != len(counts):
            raise MonitoringError(
                "The 'reference' histogram must have one edge more (numeric) or as many "
                f"values (categorical) as counts. Got {len(counts)} counts, {len(labels)} labels."
            )
        categories = {str(v): i for i, v in enumerate(labels)}
        return cls(np.append(counts, 0.0), categories=categories)

    @property
    def numeric(self) -> bool:
        return self.edges is not None

    def counts_sorted(self, values: FloatArray) -> FloatArray:
        """Counts of already sorted numeric values without NaN (a search per edge)."""
        assert self.edges is not None
        below = np.searchsorted(values, self.edges, side="left").astype(np.float64)
        below[-1] = np.searchsorted(values, self.edges[-1], side="right")  # closed last bin
        return np.diff(np.concatenate(([0.0], below, [float(values.size)])))

    def counts(self, values: Any) -> FloatArray:
        """Count ``values`` over these bins (missing values are ignored)."""
        if self.edges is not None:
            data = np.asarray(values, dtype=np.float64)
            data = data[~np.isnan(data)]
            edges = self.edges
            index = np.searchsorted(edges, data, side="right")
            index[data == edges[-1]] = len(edges) - 1  # the last bin is closed, like np.histogram
            return np.bincount(index, minlength=len(edges) + 1).astype(np.float64)
        assert self.categories is not None
        other = len(self.categories)
        index = np.fromiter(
            (self.categories.get(str(v), other) for v in values if v is not None),
            dtype=np.int64,
        )
        return np.bincount(index, minlength=other + 1).astype(np.float64)


def probabilities(counts: FloatArray, what: str) -> FloatArray:
    """Normalise counts to probabilities; no data is an error naming ``what``."""
    total = counts.sum()
    if total <= 0:
        raise MonitoringError(f"cannot compute drift: the {what} has no values")
    result: FloatArray = counts / total
    return result


def smoothed(probs: FloatArray, eps: float) -> FloatArray:
    """Add ``eps`` to every bin and renormalise, so logarithms stay finite."""
    result: FloatArray = (probs + eps) / (1.0 + eps * probs.size)
    return result


class DriftMetric(Protocol):
    """A fitted-on-reference, scored-on-current distance (see the module docstring)."""

    name: ClassVar[str]

    def fit(self, reference: FeatureStats) -> Self: ...

    def score(self, values: Any) -> float: ...


class NumericMetric(DriftMetric, Protocol):
    """A metric over the sorted values of a numeric feature (KS, Wasserstein)."""

    def score_sorted(self, values: FloatArray) -> float: ...


class HistogramMetric:
    """Template for metrics over bin probabilities: subclasses implement ``_distance``."""

    name: ClassVar[str] = ""

    bins_: ReferenceBins
    reference_probs_: FloatArray

    def fit(self, reference: FeatureStats) -> Self:
        """Learn the reference bins and probabilities of one feature."""
        self.bins_ = ReferenceBins.from_stats(reference)
        self.reference_probs_ = probabilities(self.bins_.reference_counts, "reference")
        return self

    def score(self, values: Any) -> float:
        """Distance between the current ``values`` and the reference."""
        return self.score_counts(self._fitted().counts(values))

    def score_counts(self, counts: FloatArray) -> float:
        """Distance for current values already counted over ``bins_`` (shared binning)."""
        current = probabilities(np.asarray(counts, dtype=np.float64), "current window")
        return float(self._distance(self.reference_probs_, current))

    def _fitted(self) -> ReferenceBins:
        bins: ReferenceBins | None = getattr(self, "bins_", None)
        if bins is None:
            raise MonitoringError(f"{type(self).__name__} is not fitted: call fit(reference) first")
        return bins

    def _distance(self, reference: FloatArray, current: FloatArray) -> float:
        raise NotImplementedError
