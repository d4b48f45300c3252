from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from servegraph.monitoring.metrics import TotalVariationDistance

from .conftest import Array, probabilities


def test_equals_half_the_l1_distance(reference: dict[str, Any], current: Array) -> None:
    p, q = probabilities(reference, current)
    expected = 0.5 * np.abs(p - q).sum()
    assert TotalVariationDistance().fit(reference).score(current) == pytest.approx(
        expected, abs=1e-9
    )
