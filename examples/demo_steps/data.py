"""Step 1: a realistic tabular data set, generated in code with a fixed seed.

Customers (age, tenure) pay by card; each transaction has an amount, the
distance from home and the merchant's risk score, and about 3% are fraud
(larger amounts, far from home, risky merchants). Three periods:

- ``history``: the transactions the feature store ingests and v1 trains on;
- ``live``: new transactions like the history (the first wave of requests);
- ``recent``: transactions after a real shift (prices up, customers travelling),
  whose labels arrive later: the requests of the second wave, and the data
  the retraining run learns from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 7
START = pd.Timestamp("2026-01-01")
HISTORY_DAYS = 21
FRAUD_RATE = 0.03
REQUEST_FEATURES = ["amount", "distance_km", "merchant_risk"]
SHIFTED_FEATURES = ["amount", "distance_km"]


@dataclass
class DemoData:
    """The generated frames and where they were written."""

    customers: pd.DataFrame
    history: pd.DataFrame
    live: pd.DataFrame
    recent: pd.DataFrame
    history_path: Path
    recent_path: Path


def make_customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "age": rng.integers(18, 80, n),
            "tenure_years": np.round(rng.gamma(2.0, 2.0, n), 1),
            "daily_rate": rng.gamma(2.0, 1.0, n),  # hidden: transactions per day
            "base_spend": rng.lognormal(3.4, 0.35, n),  # hidden: typical amount
        }
    )


def make_transactions(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    start: pd.Timestamp,
    days: float,
    shifted: bool = False,
) -> pd.DataFrame:
    """Transactions of ``customers`` over ``days`` from ``start`` (labelled)."""
    counts = rng.poisson(customers["daily_rate"].to_numpy() * days)
    owner = np.repeat(np.arange(len(customers)), counts)
    n = owner.size
    fraud = rng.random(n) < FRAUD_RATE
    base = customers["base_spend"].to_numpy()[owner]
    amount = base * rng.lognormal(0.0, 0.3, n) * np.where(fraud, rng.uniform(2.0, 4.0, n), 1.0)
    distance = rng.exponential(6.0, n) + np.where(fraud, rng.exponential(40.0, n), 0.0)
    risk = np.where(fraud, rng.beta(5, 2, n), rng.beta(2, 5, n))
    if shifted:  # a premium card launched: bigger purchases, many made while travelling
        amount *= 4.0
        distance += rng.normal(80.0, 15.0, n).clip(20.0)
    seconds = rng.uniform(0, days * 86_400, n)
    frame = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[owner],
            "time": start + pd.to_timedelta(seconds, unit="s"),
            "amount": np.round(amount, 2),
            "distance_km": np.round(distance, 1),
            "merchant_risk": np.round(risk, 3),
            "is_fraud": fraud.astype(np.int64),
        }
    )
    frame = frame.sort_values("time", kind="stable").reset_index(drop=True)
    frame.insert(0, "transaction_id", [f"t{int(start.timestamp())}-{i}" for i in range(n)])
    return frame


def generate(out_dir: Path, scale: float = 1.0) -> DemoData:
    """Generate and write the demo data; ``scale`` multiplies the customers (at least 200)."""
    rng = np.random.default_rng(SEED)
    customers = make_customers(rng, max(200, int(600 * scale)))
    history = make_transactions(rng, customers, START, HISTORY_DAYS)
    live_start = START + pd.Timedelta(days=HISTORY_DAYS)
    live = make_transactions(rng, customers, live_start, 2)
    recent = make_transactions(rng, customers, live_start + pd.Timedelta(days=2), 4, shifted=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    history_path = out_dir / "transactions.parquet"
    recent_path = out_dir / "recent_transactions.parquet"
    history.to_parquet(history_path, index=False)
    recent.to_parquet(recent_path, index=False)
    public = customers.drop(columns=["daily_rate", "base_spend"])
    return DemoData(public, history, live, recent, history_path, recent_path)
