from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.spatial.distance import euclidean

from servegraph.monitoring.metrics import HellingerDistance

from .conftest import Array, probabilities


def test_equals_scaled_euclidean_distance_of_roots(
    reference: dict[str, Any], current: Array
) -> None:
    p, q = probabilities(reference, current)
    expected = euclidean(np.sqrt(p), np.sqrt(q)) / np.sqrt(2)
    assert HellingerDistance().fit(reference).score(current) == pytest.approx(expected, abs=1e-9)
