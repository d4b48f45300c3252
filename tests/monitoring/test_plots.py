"""The static drift report reads on its own: model, thresholds, drifted features, time axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from servegraph.featurestore.stats import compute_stats
from servegraph.monitoring.drift import DriftThresholds, FittedReference
from servegraph.monitoring.plots import drifted_features, time_span, write_report


def results(windows: int, shift_from: int) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 3000), "b": rng.normal(5, 2, 3000)})
    stats = compute_stats(ref)
    fitted = FittedReference(stats)
    rows, current = [], ref
    for i in range(windows):
        current = pd.DataFrame({"a": rng.normal(0, 1, 400), "b": rng.normal(5, 2, 400)})
        if i >= shift_from:
            current["b"] += 6
        start = pd.Timestamp("2026-03-01 08:00", tz="UTC") + pd.Timedelta(minutes=10 * i)
        for f in fitted.score(current):
            rows.append(
                {
                    "window_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "feature": f.feature,
                    "value": f.value,
                    "status": f.status.value,
                    "count": f.count,
                }
            )
    return pd.DataFrame(rows), stats, current


def test_report_names_model_thresholds_and_drifted_features(tmp_path: Path) -> None:
    features, stats, current = results(windows=5, shift_from=3)
    assert drifted_features(features) == ["b"]
    thresholds = DriftThresholds(metric="hellinger", possible=0.1, detected=0.25)
    paths = write_report(
        "ep-1", features, stats, current, tmp_path, model="fraud v2", thresholds=thresholds
    )
    assert [p.name for p in paths] == ["drift.png", "histograms.png", "report.html"]
    page = (tmp_path / "report.html").read_text()
    assert "<title>Drift of fraud v2 (endpoint ep-1)</title>" in page
    assert "possible drift \u2265 0.1, drift detected \u2265 0.25" in page
    assert '<tr class="drift_detected"><td>b</td>' in page
    assert '<tr class="no_drift"><td>a</td>' in page
    assert "Drift detected in 1 feature(s): <b>b</b>" in page
    for png in paths[:2]:
        with Image.open(png) as image:
            assert image.size[0] > 300


def test_a_single_window_gets_an_axis_of_that_window(tmp_path: Path) -> None:
    features, stats, current = results(windows=1, shift_from=5)
    lo, hi = time_span(pd.DatetimeIndex(pd.to_datetime(features["window_start"])))
    assert hi - lo == pd.Timedelta(minutes=90)  # one hour window, padded: not years
    lo, hi = time_span(
        pd.DatetimeIndex(pd.to_datetime(features["window_start"])), pd.Timedelta("10min")
    )
    assert hi - lo == pd.Timedelta(minutes=15)
    write_report("ep-1", features, stats, current, tmp_path)
    assert "No feature drifts in the latest window." in (tmp_path / "report.html").read_text()
