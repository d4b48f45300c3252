"""Drift on synthetic data is flagged on exactly the shifted features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servegraph.errors import MonitoringError
from servegraph.featurestore.stats import compute_stats
from servegraph.monitoring.drift import DriftStatus, DriftThresholds, FittedReference, worst
from servegraph.monitoring.metrics import METRICS, KolmogorovSmirnov, TotalVariationDistance


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(42)
    columns = [f"f{i}" for i in range(6)]
    reference = pd.DataFrame(rng.normal(0.0, 1.0, (20000, 6)), columns=columns)
    current = pd.DataFrame(rng.normal(0.0, 1.0, (5000, 6)), columns=columns)
    current["f1"] += 1.0
    current["f4"] = current["f4"] * 3.0
    reference["color"] = rng.choice(["red", "green", "blue"], 20000, p=[0.5, 0.3, 0.2])
    current["color"] = rng.choice(["red", "green", "blue"], 5000, p=[0.5, 0.3, 0.2])
    return reference, current


@pytest.mark.parametrize(
    "thresholds",
    [
        DriftThresholds(),
        DriftThresholds(metric="tvd", possible=0.1, detected=0.2),
        DriftThresholds(metric="wasserstein", possible=0.1, detected=0.2),
        DriftThresholds(metric="ks", possible=0.05, detected=0.1),
        DriftThresholds(metric="psi", possible=0.1, detected=0.25),
    ],
    ids=lambda t: t.metric,
)
def test_exactly_the_shifted_features_are_flagged(
    frames: tuple[pd.DataFrame, pd.DataFrame], thresholds: DriftThresholds
) -> None:
    reference, current = frames
    results = FittedReference(compute_stats(reference), thresholds).score(current)
    flagged = {r.feature for r in results if r.status is DriftStatus.DRIFT_DETECTED}
    assert flagged == {"f1", "f4"}
    assert worst(r.status for r in results) is DriftStatus.DRIFT_DETECTED
    by_name = {r.feature: r for r in results}
    assert by_name["color"].status is DriftStatus.NO_DRIFT
    assert set(by_name["color"].metrics) == {"tvd", "hellinger", "kl", "psi"}
    assert set(by_name["f0"].metrics) == set(METRICS)


def test_values_are_those_of_the_metric_classes(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    reference, current = frames
    stats = compute_stats(reference)
    result = {r.feature: r for r in FittedReference(stats).score(current)}["f1"]
    assert result.metrics["tvd"] == TotalVariationDistance().fit(stats["f1"]).score(current["f1"])
    assert result.metrics["ks"] == pytest.approx(
        KolmogorovSmirnov().fit(stats["f1"]).score(current["f1"]), abs=1e-12
    )
    assert result.count == 5000


def test_thresholds_and_metric_names_are_validated() -> None:
    with pytest.raises(MonitoringError, match="'metric' parameter of DriftThresholds"):
        DriftThresholds(metric="chi2")
    with pytest.raises(MonitoringError, match="possible <= detected"):
        DriftThresholds(possible=0.5, detected=0.1)
    with pytest.raises(MonitoringError, match="'metrics' parameter"):
        FittedReference({}, metrics=["nope"])
    assert DriftThresholds(possible=0.1, detected=0.2).status(0.1) is DriftStatus.POSSIBLE_DRIFT


def test_missing_or_empty_features_are_skipped() -> None:
    stats = compute_stats(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]}))
    results = FittedReference(stats).score(pd.DataFrame({"a": [np.nan, np.nan]}))
    assert results == []
