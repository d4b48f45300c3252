"""Feature-store fixtures: random event data and per-test Redis targets."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import redis

from servegraph.featurestore import RedisTarget


def make_events(n: int = 600, entities: int = 8, seed: int = 0, hours: int = 12) -> pd.DataFrame:
    """Random events with unique, sorted timestamps over ``hours`` hours."""
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.choice(hours * 3600, size=n, replace=False))
    return pd.DataFrame(
        {
            "id": rng.integers(0, entities, n),
            "time": pd.Timestamp("2024-03-01") + pd.to_timedelta(seconds, unit="s"),
            "amount": rng.normal(50.0, 20.0, n).round(3),
            "channel": rng.choice(["web", "shop", "app"], n),
        }
    )


@pytest.fixture
def events() -> pd.DataFrame:
    return make_events()


@pytest.fixture
def redis_target(redis_url: str, unique: str) -> Iterator[RedisTarget]:
    """A RedisTarget under a unique key prefix; its keys are deleted afterwards."""
    target = RedisTarget(redis_url, prefix=f"sgtest:{unique}:")
    yield target
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{target.prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


PANDAS_OPS = {
    "sum": "sum",
    "count": "count",
    "avg": "mean",
    "min": "min",
    "max": "max",
    "std": "std",
    "var": "var",
}


def rolling_truth(df: pd.DataFrame, column: str, op: str, window: str, period: str) -> pd.Series:
    """The pandas ground truth of a sliding window, aligned with ``df``'s index.

    storey slides by whole periods: an event's window covers the buckets of
    ``period`` ending at its own bucket, i.e. pandas rolling over period-floored time.
    """
    ordered = df.assign(bucket=df["time"].dt.floor(period)).sort_values(["id", "time"])
    rolled = ordered.set_index("bucket").groupby("id")[column].rolling(window)
    values = getattr(rolled, PANDAS_OPS[op])().to_numpy()
    return pd.Series(values, index=ordered.index).reindex(df.index)
