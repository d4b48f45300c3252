"""Synthetic endpoint traffic: a reference set and logged records over time windows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

FEATURES = ["a", "b", "c"]
T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


def reference_frame(seed: int = 0, n: int = 5000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(0.0, 1.0, (n, 3)), columns=FEATURES)


def records(
    endpoint: str,
    n: int,
    *,
    start: dt.datetime = T0,
    minutes: float = 50,
    shift_b: float = 0.0,
    seed: int = 1,
    rows_per_request: int = 2,
    error_every: int = 0,
    latency_ms: float = 5.0,
) -> list[dict[str, Any]]:
    """``n`` requests spread over ``minutes`` from ``start``; feature b shifted by ``shift_b``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        rows = rng.normal(0.0, 1.0, (rows_per_request, 3))
        rows[:, 1] += shift_b
        ts = start + dt.timedelta(minutes=minutes * i / n)
        failed = bool(error_every) and i % error_every == 0
        out.append(
            {
                "endpoint_id": endpoint,
                "function": "fn",
                "model_name": "m",
                "model_version": "1",
                "request_id": f"{endpoint}-{seed}-{i}",
                "timestamp": ts.isoformat().replace("+00:00", "Z"),
                "inputs": rows.tolist(),
                "outputs": [] if failed else [0] * rows_per_request,
                "latency_ms": latency_ms,
                "error": "boom" if failed else None,
            }
        )
    return out
