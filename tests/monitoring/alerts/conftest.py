"""Window results to feed rules with."""

from __future__ import annotations

import pandas as pd

from servegraph.monitoring.drift import DriftStatus
from servegraph.monitoring.results import WindowResult


def window(
    hour: int,
    status: DriftStatus = DriftStatus.NO_DRIFT,
    *,
    endpoint: str = "ep",
    errors: int = 0,
    requests: int = 100,
    p99: float | None = 10.0,
) -> WindowResult:
    start = pd.Timestamp(f"2026-03-01T{hour:02d}:00:00Z")
    return WindowResult(
        endpoint_id=endpoint,
        window_start=start,
        window_end=start + pd.Timedelta("1h"),
        requests=requests,
        rows=requests,
        errors=errors,
        latency_p99=p99,
        status=status,
        drift_value={DriftStatus.NO_DRIFT: 0.05, DriftStatus.POSSIBLE_DRIFT: 0.2}.get(status, 0.5),
    )
