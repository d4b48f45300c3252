from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servegraph.featurestore.stats import compute_stats


def test_numeric_stats_match_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, 1000)
    stats = compute_stats(pd.DataFrame({"x": x}), bins=10)["x"]
    assert stats["count"] == 1000
    assert stats["mean"] == pytest.approx(x.mean())
    assert stats["std"] == pytest.approx(x.std(ddof=1))
    counts, edges = np.histogram(x, bins=10, range=(x.min(), x.max()))
    assert stats["hist"] == [counts.tolist(), edges.tolist()]
    assert sum(stats["hist"][0]) == 1000


def test_categorical_and_constant_columns() -> None:
    df = pd.DataFrame({"c": ["a", "b", "a", None], "k": [5, 5, 5, 5]})
    stats = compute_stats(df, bins=4)
    assert stats["c"] == {"count": 3, "unique": 2, "top": "a", "hist": [[2, 1], ["a", "b"]]}
    assert stats["k"]["hist"][0] == [0, 0, 4, 0]  # constant column gets a unit-wide range


def test_bad_bins_is_named() -> None:
    with pytest.raises(ValueError, match="'bins' parameter"):
        compute_stats(pd.DataFrame({"x": [1]}), bins=0)
