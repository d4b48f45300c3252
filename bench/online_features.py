"""Feature-store benchmarks, each beside a baseline measured in the same run.

1. Online ``get()`` of 1 entity x 20 features from Redis (p50/p99) beside a bare
   redis-py ``HGETALL`` of the same key and the HTTP feature server's
   ``POST /v1/features/online`` (keep-alive connection, server in a thread).
   Target: p99 <= 1 ms on loopback for get().
2. Batch ingestion rows/s with 3 aggregations x 3 sliding windows per engine:
   pandas and Dask (2-worker LocalCluster) on every row, storey on a slice
   (``--storey-rows``, 1M rows would take ~8 minutes) and the same storey flow
   driven directly. Targets: pandas >= 100,000 rows/s and >= 50x storey; Dask
   within 2x of pandas.

    PYTHONPATH=. python bench/online_features.py                  # ~1 minute
    PYTHONPATH=. python bench/online_features.py --rows 1000000   # the full figure
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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
    vector = FeatureVector("bench20-vec", ["bench20.*"])
    vector.save()
    svc = get_online_feature_service(vector)
    client = redis.Redis.from_url(redis_url)
    key = f"{prefix}{fset.key}:7"
    body = json.dumps({"vector": "bench20-vec", "entities": [{"id": 7}]})
    headers = {"Content-Type": "application/json"}
    try:
        with feature_server() as port:
            conn = http.client.HTTPConnection("127.0.0.1", port)

            def over_http() -> None:
                conn.request("POST", "/v1/features/online", body, headers)
                resp = conn.getresponse()
                assert resp.status == 200, resp.read()
                resp.read()

            assert len(svc.get([{"id": 7}])[0]) == 20
            ours: list[int] = []
            bare: list[int] = []
            served: list[int] = []
            for _ in range(200):  # warm up all three
                svc.get([{"id": 7}])
                client.hgetall(key)
                over_http()
            for _ in range(requests):  # interleaved, so all see the same machine load
                t0 = time.perf_counter_ns()
                svc.get([{"id": 7}])
                t1 = time.perf_counter_ns()
                client.hgetall(key)
                t2 = time.perf_counter_ns()
                over_http()
                t3 = time.perf_counter_ns()
                ours.append(t1 - t0)
                bare.append(t2 - t1)
                served.append(t3 - t2)
            conn.close()
        (p50, p99), (b50, b99), (h50, h99) = (
            percentiles(ours),
            percentiles(bare),
            percentiles(served),
        )
        print(f"online features, 1 entity x 20 features, Redis, {requests} requests")
        print(f"  servegraph get():      p50 {p50:.3f} ms   p99 {p99:.3f} ms")
        print(f"  bare redis HGETALL:    p50 {b50:.3f} ms   p99 {b99:.3f} ms")
        print(f"  HTTP feature server:   p50 {h50:.3f} ms   p99 {h99:.3f} ms")
        print(
            f"  ratio get/HGETALL:     p50 {p50 / b50:.2f}x  p99 {p99 / b99:.2f}x"
            f"   (target p99 <= 1 ms: {'met' if p99 <= 1.0 else 'NOT met'})"
        )
        print(f"  ratio HTTP/HGETALL:    p50 {h50 / b50:.2f}x  p99 {h99 / b99:.2f}x")
    finally:
        svc.close()
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@contextmanager
def feature_server() -> Iterator[int]:
    """The HTTP feature server on a free port, its event loop in a thread."""
    from aiohttp import web

    from servegraph.featurestore.server import make_app

    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app())
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = int(runner.addresses[0][1])
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


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


def servegraph_ingest(df: pd.DataFrame, engine: object) -> float:
    from servegraph.featurestore import FeatureSet, ParquetTarget, SQLiteTarget, ingest

    fset = FeatureSet("bench-ingest", entities=["id"], timestamp_key="time")
    for name, column, ops in AGGS:
        fset.add_aggregation(column, ops, WINDOWS, period=PERIOD, name=name)
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    start = time.perf_counter()
    ingest(fset, df, engine=engine)  # type: ignore[arg-type]
    return time.perf_counter() - start


def bench_ingest(rows: int, storey_rows: int) -> None:
    from distributed import Client, LocalCluster

    from servegraph.featurestore.engines import DaskEngine

    df = events(rows)
    part = df.iloc[: min(storey_rows, rows)]
    print(
        f"ingestion, 3 aggregations x {len(WINDOWS)} sliding windows, {rows} rows "
        f"(storey on the first {len(part)} rows: it would take minutes on all)"
    )
    pandas_s = servegraph_ingest(df, "pandas")
    storey_s = servegraph_ingest(part, "storey")
    direct_s = storey_direct(part)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        dask_s = servegraph_ingest(df, DaskEngine(client))
    from servegraph.featurestore.aggregation import Aggregation
    from servegraph.featurestore.engines.windows import aggregate_frame

    start = time.perf_counter()
    aggregate_frame(df, ["id"], "time", [Aggregation(c, o, WINDOWS, PERIOD, n) for n, c, o in AGGS])
    windows_s = time.perf_counter() - start
    pandas_rate, storey_rate = rows / pandas_s, len(part) / storey_s
    print(f"  storey directly:        {len(part) / direct_s:10.0f} rows/s  ({direct_s:.1f} s)")
    print(f"  ingest engine=storey:   {storey_rate:10.0f} rows/s  ({storey_s:.1f} s)")
    print(f"  ingest engine=pandas:   {pandas_rate:10.0f} rows/s  ({pandas_s:.1f} s)")
    print(
        f"  ingest engine=dask:     {rows / dask_s:10.0f} rows/s  ({dask_s:.1f} s, "
        "2 worker processes)"
    )
    print("  (each ingest: + Parquet offline, SQLite online, statistics, catalog)")
    print(f"  pandas windows alone:   {rows / windows_s:10.0f} rows/s  ({windows_s:.1f} s)")
    print(
        f"  ratio pandas/storey:    {pandas_rate / storey_rate:.1f}x throughput"
        f"   (target >= 50x and >= 100,000 rows/s: "
        f"{'met' if pandas_rate / storey_rate >= 50 and pandas_rate >= 100_000 else 'NOT met'})"
    )
    print(
        f"  ratio dask/pandas time: {dask_s / pandas_s:.2f}x"
        f"   (target <= 2x: {'met' if dask_s / pandas_s <= 2 else 'NOT met'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--storey-rows", type=int, default=50_000)
    parser.add_argument("--skip-online", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("SERVEGRAPH_HOME", tempfile.mkdtemp(prefix="sg-bench-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load}")
    if not args.skip_online:
        bench_online(args.redis, args.requests)
    if not args.skip_ingest:
        bench_ingest(args.rows, args.storey_rows)


if __name__ == "__main__":
    main()
