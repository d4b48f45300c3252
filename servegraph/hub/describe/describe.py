"""Describe a dataset: summary table, reference statistics and a histogram plot.

Results: ``rows``, ``columns``, ``missing`` (cells). Artifacts: ``summary``
(CSV of ``DataFrame.describe``), ``stats`` (JSON in the
``servegraph.featurestore.stats`` format) and ``histograms`` (PNG).
"""

from __future__ import annotations

import io
import json
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from servegraph.errors import RunError
from servegraph.featurestore.stats import compute_stats


def describe(context: Any, table: Any, label_column: str = "") -> None:
    """Log the description of the ``table`` input (any data item readable as a DataFrame)."""
    df = table.as_df()
    if label_column and label_column not in df.columns:
        raise RunError(
            f"The 'label_column' {label_column!r} is not a column of the table "
            f"({list(df.columns)})."
        )
    context.log_results(
        {"rows": len(df), "columns": len(df.columns), "missing": int(df.isna().sum().sum())}
    )
    context.log_artifact("summary", body=df.describe(include="all").to_csv(), format="csv")
    stats = compute_stats(df)
    context.log_artifact("stats", body=json.dumps(stats), format="json")
    numeric = df.select_dtypes("number")
    if label_column:
        context.log_result("label_counts", df[label_column].astype(str).value_counts().to_dict())
    if len(numeric.columns):
        axes = numeric.hist(figsize=(4 * min(len(numeric.columns), 3), 3), bins=20)
        fig = axes.flat[0].get_figure()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        context.log_artifact("histograms", body=buf.getvalue(), format="png")
