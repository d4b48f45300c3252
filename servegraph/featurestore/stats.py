"""Feature statistics: the reference that monitoring compares live data with.

``compute_stats(df)`` returns, per column, a dict with ``count``, ``mean``,
``std``, ``min``, ``max``, the quartiles ``25%``/``50%``/``75%`` and ``hist``:
``[counts, edges]`` over ``bins`` fixed bins between min and max (numeric
columns). Non-numeric columns get ``count``, ``unique``, ``top`` and a ``hist``
of value counts as ``[counts, values]``. The format is plain JSON so it can be
stored in a run record, an artifact or the feature-store catalog.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

DEFAULT_BINS = 20


def compute_stats(df: pd.DataFrame, bins: int = DEFAULT_BINS) -> dict[str, dict[str, Any]]:
    """Compute the reference statistics of every column of ``df``.

    >>> stats = compute_stats(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}), bins=2)
    >>> stats["x"]["mean"], stats["x"]["hist"]
    (2.5, [[2, 2], [1.0, 2.5, 4.0]])
    """
    if bins < 1:
        raise ValueError(f"The 'bins' parameter of compute_stats must be >= 1. Got {bins} instead.")
    out: dict[str, dict[str, Any]] = {}
    for name in df.columns:
        col = df[name]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            out[str(name)] = _categorical_stats(col)
        else:
            out[str(name)] = _numeric_stats(col, bins)
    return out


def _numeric_stats(col: pd.Series, bins: int) -> dict[str, Any]:
    values = col.to_numpy(dtype=float, na_value=np.nan)  # one array, no dropna copy of a full one
    missing = np.isnan(values)
    if missing.any():
        values = values[~missing]
    if values.size == 0:
        return {"count": 0, "hist": [[], []]}
    low, high = float(values.min()), float(values.max())
    lo, hi = low, high
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    q25, q50, q75 = np.quantile(values, [0.25, 0.5, 0.75])
    return {
        "count": int(values.size),
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "min": low,
        "max": high,
        "25%": float(q25),
        "50%": float(q50),
        "75%": float(q75),
        "hist": [[int(c) for c in counts], [float(e) for e in edges]],
    }


def _categorical_stats(col: pd.Series) -> dict[str, Any]:
    counts = col.dropna().astype(str).value_counts()
    return {
        "count": int(counts.sum()),
        "unique": int(counts.size),
        "top": str(counts.index[0]) if counts.size else None,
        "hist": [[int(c) for c in counts.to_numpy()], [str(v) for v in counts.index]],
    }
