from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from servegraph.monitoring.metrics import PopulationStabilityIndex

from .conftest import Array, probabilities, smooth


def test_equals_numpy_psi_of_smoothed_histograms(reference: dict[str, Any], current: Array) -> None:
    p, q = (smooth(a, 1e-4) for a in probabilities(reference, current))
    expected = np.sum((q - p) * np.log(q / p))
    assert PopulationStabilityIndex().fit(reference).score(current) == pytest.approx(
        expected, abs=1e-9
    )
