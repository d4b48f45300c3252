from __future__ import annotations

from typing import Any

import pytest
from scipy.stats import entropy

from servegraph.monitoring.metrics import KLDivergence

from .conftest import Array, probabilities, smooth


@pytest.mark.parametrize("eps", [1e-4, 1e-2])
def test_equals_scipy_entropy_of_smoothed_histograms(
    reference: dict[str, Any], current: Array, eps: float
) -> None:
    p, q = probabilities(reference, current)
    expected = entropy(smooth(q, eps), smooth(p, eps))
    assert KLDivergence(eps=eps).fit(reference).score(current) == pytest.approx(expected, abs=1e-9)
