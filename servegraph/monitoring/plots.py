"""Drift reports: per-feature drift over time and reference vs current histograms.

``write_report`` draws two PNG figures with matplotlib (Agg backend) and an
HTML page that embeds them beside the latest window's feature table.

>>> paths = write_report("ep", features_df, reference_stats, window_df, out_dir)  # doctest: +SKIP
>>> [p.name for p in paths]                                                      # doctest: +SKIP
['drift.png', 'histograms.png', 'report.html']
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from servegraph.monitoring.metrics import ReferenceBins


def plot_drift_over_time(features: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Line per feature: the deciding metric's value by window start."""
    fig, ax = plt.subplots(figsize=(8, 4))
    if len(features):
        table = features.pivot_table(index="window_start", columns="feature", values="value")
        table.index = pd.to_datetime(table.index)
        for feature in table.columns:
            ax.plot(table.index, table[feature], marker="o", label=str(feature))
        ax.legend(loc="upper left", fontsize="small", ncol=2)
    ax.set_title(title or "drift over time")
    ax.set_xlabel("window start")
    ax.set_ylabel("drift")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_histograms(
    reference: Mapping[str, Mapping[str, Any]], current: pd.DataFrame, path: Path
) -> Path:
    """One panel per feature: reference vs current bin probabilities."""
    features = [f for f in reference if f in current.columns and reference[f].get("count")]
    cols = min(3, max(1, len(features)))
    rows = max(1, math.ceil(len(features) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, feature in zip(axes.flat, features, strict=False):
        bins = ReferenceBins.from_stats(reference[feature])
        values = current[feature].dropna()
        if bins.numeric:
            values = pd.to_numeric(values, errors="coerce").dropna()
        cur = bins.counts(values.to_numpy())
        ref = bins.reference_counts
        x = np.arange(ref.size)
        ax.bar(x - 0.2, ref / max(ref.sum(), 1), width=0.4, label="reference")
        ax.bar(x + 0.2, cur / max(cur.sum(), 1), width=0.4, label="current")
        ax.set_title(str(feature), fontsize="small")
        ax.set_xticks([])
    for ax in list(axes.flat)[len(features) :]:
        ax.axis("off")
    if features:
        axes.flat[0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_report(
    endpoint_id: str,
    features: pd.DataFrame,
    reference: Mapping[str, Mapping[str, Any]],
    current: pd.DataFrame,
    directory: Path,
) -> list[Path]:
    """Write ``drift.png``, ``histograms.png`` and ``report.html`` to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    drift = plot_drift_over_time(features, directory / "drift.png", f"drift of {endpoint_id}")
    hists = plot_histograms(reference, current, directory / "histograms.png")
    latest = (
        features[features["window_start"] == features["window_start"].max()]
        if len(features)
        else features
    )
    images = "".join(
        f'<img alt="{p.stem}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"/>'
        for p in (drift, hists)
    )
    page = directory / "report.html"
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(endpoint_id)}"
        f"</title></head><body><h1>Drift of {html.escape(endpoint_id)}</h1>{images}"
        f"<h2>Latest window</h2>{latest.to_html(index=False)}</body></html>",
        encoding="utf-8",
    )
    return [drift, hists, page]
