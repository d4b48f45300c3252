"""A reference (training) sample with its statistics, and current samples."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from servegraph.featurestore.stats import compute_stats

Array = npt.NDArray[np.float64]


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    rng = np.random.default_rng(7)
    return compute_stats(pd.DataFrame({"x": rng.normal(10.0, 2.0, 5000)}), bins=20)["x"]


@pytest.fixture(scope="module", params=[0.0, 0.7, 3.0], ids=["same", "shifted", "far"])
def current(request: pytest.FixtureRequest) -> Array:
    rng = np.random.default_rng(11)
    return rng.normal(10.0 + request.param * 2.0, 2.0, 3000)


def probabilities(reference: dict[str, Any], values: Array) -> tuple[Array, Array]:
    """Reference and current bin probabilities, computed independently with np.histogram."""
    counts, edges = (np.asarray(a, dtype=float) for a in reference["hist"])
    ref = np.concatenate(([0.0], counts, [0.0]))
    inside = np.histogram(values, bins=edges)[0]
    cur = np.concatenate(([np.sum(values < edges[0])], inside, [np.sum(values > edges[-1])]))
    return ref / ref.sum(), cur / cur.sum()


def smooth(p: Array, eps: float) -> Array:
    q = p + eps
    return q / q.sum()
