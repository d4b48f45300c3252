"""Feature-store benchmarks, each beside a baseline measured in the same run.

1. Online ``get()`` of 1 entity x 20 features from Redis (p50/p99) beside a bare
   redis-py ``HGETALL`` of the same key. Target: p99 <= 1 ms on loopback.
2. Batch ingestion rows/s with 3 windowed aggregations beside the same storey
   flow driven directly (DataframeSource -> AggregateByKey -> Reduce).

    PYTHONPATH=. python bench/online_features.py                # ~1 minute
    PYTHONPATH=. python bench/online_features.py --rows 1000000 # the full figure
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import numpy as np
import pandas as pd
import redis
import storey


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    values = np.array(samples_ns, dtype=float) / 1e6
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def bench_online(redis_url: str, requests: int) -> None:
    from servegraph.featurestore import (
        FeatureSet,
        FeatureVector,
        ParquetTarget,
        RedisTarget,
        get_online_feature_service,
        ingest,
    )

    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    rng = np.random.default_rng(0)
    features = {f"f{i:02d}": rng.normal(size=100) for i in range(20)}
    df = pd.DataFrame({"id": np.arange(100), **features})
    fset = FeatureSet("bench20", entities=["id"])
    fset.set_targets([ParquetTarget(), RedisTarget(redis_url, prefix=prefix)])
    ingest(fset, df)
    svc = get_online_feature_service(FeatureVector("bench20-vec", ["bench20.*"]))
    client = redis.Redis.from_url(redis_url)
    key = f"{prefix}{fset.key}:7"
    try:
        assert len(svc.get([{"id": 7}])[0]) == 20
        ours: list[int] = []
        bare: list[int] = []
        for _ in range(200):  # warm up both
            svc.get([{"id": 7}])
            client.hgetall(key)
        for _ in range(requests):  # interleaved, so both see the same machine load
            t0 = time.perf_counter_ns()
            svc.get([{"id": 7}])
            t1 = time.perf_counter_ns()
            client.hgetall(key)
            t2 = time.perf_counter_ns()
            ours.append(t1 - t0)
            bare.append(t2 - t1)
        (p50, p99), (b50, b99) = percentiles(ours), percentiles(bare)
        print(f"online get() 1 entity x 20 features, Redis, {requests} requests")
        print(f"  servegraph get():   p50 {p50:.3f} ms   p99 {p99:.3f} ms")
        print(f"  bare redis HGETALL: p50 {b50:.3f} ms   p99 {b99:.3f} ms")
        print(
            f"  ratio get/HGETALL:  p50 {p50 / b50:.2f}x  p99 {p99 / b99:.2f}x"
            f"   (target p99 <= 1 ms: {'met' if p99 <= 1.0 else 'NOT met'})"
        )
    finally:
        svc.close()
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def events(rows: int, entities: int = 100, gap_s: int = 60) -> pd.DataFrame:
    """``rows`` events of ``entities`` keys, one per key every ``gap_s`` seconds on average."""
    rng = np.random.default_rng(1)
    seconds = np.sort(rng.integers(0, max(rows // entities, 1) * gap_s, rows))
    return pd.DataFrame(
        {
            "id": rng.integers(0, entities, rows),
            "time": pd.Timestamp("2024-01-01") + pd.to_timedelta(seconds, unit="s"),
            "amount": rng.normal(50, 20, rows),
            "qty": rng.integers(1, 10, rows),
        }
    )


AGGS = [  # (name, column, operations): 3 aggregations, sliding 1h/6h/1d by 10 minutes
    ("amount", "amount", ["sum", "count"]),
    ("amount_mean", "amount", ["avg"]),
    ("qty", "qty", ["max"]),
]
WINDOWS, PERIOD = ["1h", "6h", "1d"], "10m"


def storey_direct(df: pd.DataFrame) -> float:
    aggregators = [
        storey.FieldAggregator(name, column, ops, storey.SlidingWindows(WINDOWS, PERIOD))
        for name, column, ops in AGGS
    ]
    start = time.perf_counter()
    flow = storey.build_flow(
        [
            storey.DataframeSource(df, key_field="id"),
            storey.AggregateByKey(
                aggregators,
                storey.Table("", storey.NoopDriver()),
                key_field="id",
                time_field="time",
            ),
            storey.Reduce([], lambda acc, body: (acc.append(body), acc)[1]),
        ]
    )
    rows = flow.run().await_termination()
    assert len(rows) == len(df)
    return time.perf_counter() - start


def servegraph_ingest(df: pd.DataFrame) -> float:
    from servegraph.featurestore import FeatureSet, ParquetTarget, SQLiteTarget, ingest

    fset = FeatureSet("bench-ingest", entities=["id"], timestamp_key="time")
    for name, column, ops in AGGS:
        fset.add_aggregation(column, ops, WINDOWS, period=PERIOD, name=name)
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    start = time.perf_counter()
    ingest(fset, df)
    return time.perf_counter() - start


def bench_ingest(rows: int) -> None:
    df = events(rows)
    direct = storey_direct(df)
    ours = servegraph_ingest(df)
    print(f"ingestion, {rows} rows, 3 windowed aggregations ({len(WINDOWS)} windows each)")
    print(f"  storey directly:       {rows / direct:10.0f} rows/s  ({direct:.1f} s)")
    print(
        f"  servegraph ingest():   {rows / ours:10.0f} rows/s  ({ours:.1f} s; + Parquet, "
        "SQLite online, stats, catalog)"
    )
    print(f"  ratio ingest/storey:   {direct / ours:.2f}x throughput")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--skip-online", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("SERVEGRAPH_HOME", tempfile.mkdtemp(prefix="sg-bench-"))
    if not args.skip_online:
        bench_online(args.redis, args.requests)
    if not args.skip_ingest:
        bench_ingest(args.rows)


if __name__ == "__main__":
    main()
