"""Drift reports that read on their own: per-feature drift over time with the thresholds
drawn, reference vs current histograms, and an HTML page naming the model.

``write_report`` draws two PNG figures with matplotlib (Agg backend) and an
HTML page that embeds them beside the latest window's feature table, drifted
features highlighted. The time axis spans the windows themselves (a single
window is shown as that window, not a years-wide axis).

>>> paths = write_report("ep", features_df, reference_stats, window_df, out_dir,
...                      model="fraud v1", thresholds=DriftThresholds())  # doctest: +SKIP
>>> [p.name for p in paths]                                              # doctest: +SKIP
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
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from servegraph.monitoring.drift import DriftStatus, DriftThresholds
from servegraph.monitoring.metrics import ReferenceBins

DETECTED = DriftStatus.DRIFT_DETECTED.value
POSSIBLE = DriftStatus.POSSIBLE_DRIFT.value
_COLORS = {DETECTED: "#d1453b", POSSIBLE: "#c77c02"}


def _latest(features: pd.DataFrame) -> pd.DataFrame:
    if not len(features):
        return features
    latest: pd.DataFrame = features[features["window_start"] == features["window_start"].max()]
    return latest


def drifted_features(features: pd.DataFrame, status: str = DETECTED) -> list[str]:
    """Features whose latest window has ``status`` (drift detected by default)."""
    latest = _latest(features)
    return (
        sorted(str(f) for f in latest[latest["status"] == status]["feature"]) if len(latest) else []
    )


def time_span(
    starts: pd.DatetimeIndex, window: pd.Timedelta | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The x range of the drift plot: the windows themselves, a little padded.

    >>> time_span(pd.DatetimeIndex(["2026-01-01 10:00"]), pd.Timedelta("1h"))
    (Timestamp('2026-01-01 09:45:00'), Timestamp('2026-01-01 11:15:00'))
    """
    starts = starts.unique().sort_values()
    step = window or (starts[1] - starts[0] if len(starts) > 1 else pd.Timedelta(hours=1))
    return starts[0] - step * 0.25, starts[-1] + step * 1.25


def plot_drift_over_time(
    features: pd.DataFrame,
    path: Path,
    title: str = "",
    thresholds: DriftThresholds | None = None,
    window: pd.Timedelta | None = None,
) -> Path:
    """Line per feature: the deciding metric's value by window, with both thresholds.

    Drifted features (latest window) are drawn thick and named ``(drift)`` in the
    legend; the x axis spans the first window's start to the last window's end.
    """
    thresholds = thresholds or DriftThresholds()
    fig, ax = plt.subplots(figsize=(9, 4.2))
    top = thresholds.detected * 1.3
    if len(features):
        table = features.pivot_table(index="window_start", columns="feature", values="value")
        table.index = pd.to_datetime(table.index)
        drifted = set(drifted_features(features))
        for feature in table.columns:
            hit = str(feature) in drifted
            ax.plot(
                table.index,
                table[feature],
                marker="o",
                linewidth=2.6 if hit else 1.2,
                markersize=6 if hit else 4,
                label=f"{feature} (drift)" if hit else str(feature),
                zorder=3 if hit else 2,
            )
        lo, hi = time_span(pd.DatetimeIndex(table.index), window)
        ax.set_xlim(lo.to_pydatetime(), hi.to_pydatetime())  # type: ignore[arg-type]
        top = max(top, float(np.nanmax(table.to_numpy())) * 1.1)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(
            mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
        )
        legend = ax.legend(loc="upper left", fontsize="small", ncol=2, framealpha=0.9)
        for text in legend.get_texts():
            if text.get_text().endswith("(drift)"):
                text.set_color(_COLORS[DETECTED])
                text.set_fontweight("bold")
    for value, label, color in (
        (thresholds.possible, "possible drift", _COLORS[POSSIBLE]),
        (thresholds.detected, "drift detected", _COLORS[DETECTED]),
    ):
        ax.axhline(value, color=color, linestyle="--", linewidth=1.2, zorder=1)
        ax.annotate(
            f"{label} \u2265 {value:g}",
            xy=(1, value),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize="small",
            color=color,
        )
    ax.set_ylim(0, top)
    ax.set_title(title or "drift over time")
    ax.set_xlabel("window start (UTC)")
    ax.set_ylabel(f"drift ({thresholds.metric})")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_histograms(
    reference: Mapping[str, Mapping[str, Any]],
    current: pd.DataFrame,
    path: Path,
    drifted: set[str] | frozenset[str] = frozenset(),
) -> Path:
    """One panel per feature: reference vs current bin probabilities (drifted in red)."""
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
        ax.bar(x - 0.2, ref / max(ref.sum(), 1), width=0.4, label="reference", color="#7f9ccc")
        ax.bar(x + 0.2, cur / max(cur.sum(), 1), width=0.4, label="current", color="#d1453b")
        hit = feature in drifted
        ax.set_title(
            f"{feature} (drift)" if hit else str(feature),
            fontsize="small",
            color=_COLORS[DETECTED] if hit else "black",
            fontweight="bold" if hit else "normal",
        )
        if hit:
            for spine in ax.spines.values():
                spine.set_edgecolor(_COLORS[DETECTED])
                spine.set_linewidth(1.5)
        ax.set_xticks([])
    for ax in list(axes.flat)[len(features) :]:
        ax.axis("off")
    if features:
        axes.flat[0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _feature_table(latest: pd.DataFrame) -> str:
    rows = []
    for r in latest.sort_values("value", ascending=False).to_dict("records"):
        status = str(r["status"])
        rows.append(
            f'<tr class="{html.escape(status)}"><td>{html.escape(str(r["feature"]))}</td>'
            f'<td class="num">{float(r["value"]):.3f}</td>'
            f'<td><span class="badge">{html.escape(status.replace("_", " "))}</span></td>'
            f'<td class="num">{int(r["count"])}</td></tr>'
        )
    return (
        "<table><thead><tr><th>feature</th><th>drift</th><th>status</th><th>rows</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#1f2933;max-width:960px}"
    "h1{font-size:22px;margin-bottom:4px}.sub{color:#66788a;margin-top:0}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}"
    "dt{color:#66788a}dd{margin:0}table{border-collapse:collapse;min-width:420px}"
    "td,th{padding:6px 10px;border-bottom:1px solid #dde3e9;text-align:left}"
    "td.num{text-align:right}.badge{padding:1px 8px;border-radius:10px;"
    "background:#e3f4e8;color:#2f8a4c;font-size:12px}"
    "tr.drift_detected td{background:#fbe7e5;font-weight:600}"
    "tr.drift_detected .badge{background:#d1453b;color:#fff}"
    "tr.possible_drift td{background:#fff6e5}"
    "tr.possible_drift .badge{background:#c77c02;color:#fff}"
    ".alert{padding:10px 14px;border-radius:8px;background:#fbe7e5;color:#8b2018}"
    ".ok{padding:10px 14px;border-radius:8px;background:#e3f4e8;color:#1f6b37}img{max-width:100%}"
)


def write_report(
    endpoint_id: str,
    features: pd.DataFrame,
    reference: Mapping[str, Mapping[str, Any]],
    current: pd.DataFrame,
    directory: Path,
    model: str = "",
    thresholds: DriftThresholds | None = None,
    window: pd.Timedelta | None = None,
) -> list[Path]:
    """Write ``drift.png``, ``histograms.png`` and ``report.html`` to ``directory``.

    ``model`` names the model in the titles; ``thresholds`` are drawn and listed.
    """
    thresholds = thresholds or DriftThresholds()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{model} (endpoint {endpoint_id})" if model else f"endpoint {endpoint_id}"
    drifted = drifted_features(features)
    drift = plot_drift_over_time(
        features, directory / "drift.png", f"Drift of {name}", thresholds, window
    )
    hists = plot_histograms(reference, current, directory / "histograms.png", set(drifted))
    latest = _latest(features)
    when = str(latest["window_start"].iloc[0]) if len(latest) else "no window yet"
    verdict = (
        f'<p class="alert">Drift detected in {len(drifted)} feature(s): '
        f"<b>{html.escape(', '.join(drifted))}</b></p>"
        if drifted
        else '<p class="ok">No feature drifts in the latest window.</p>'
    )
    images = "".join(
        f'<h2>{title}</h2><img alt="{p.stem}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"/>'
        for title, p in (
            ("Drift per feature over time", drift),
            ("Latest window: reference vs current", hists),
        )
    )
    page = directory / "report.html"
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Drift of {html.escape(name)}"
        f"</title><style>{_CSS}</style></head><body><h1>Drift of {html.escape(name)}</h1>"
        f'<p class="sub">latest window {html.escape(when)}</p>{verdict}'
        f"<dl><dt>model</dt><dd>{html.escape(model or '-')}</dd>"
        f"<dt>endpoint</dt><dd>{html.escape(endpoint_id)}</dd>"
        f"<dt>metric</dt><dd>{html.escape(thresholds.metric)}</dd>"
        f"<dt>thresholds</dt><dd>possible drift \u2265 {thresholds.possible:g}, "
        f"drift detected \u2265 {thresholds.detected:g}</dd>"
        f"<dt>windows</dt><dd>{features['window_start'].nunique() if len(features) else 0}</dd>"
        f"</dl><h2>Latest window per feature</h2>{_feature_table(latest)}{images}</body></html>",
        encoding="utf-8",
    )
    return [drift, hists, page]
