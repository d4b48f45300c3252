"""Step 2: feature sets with windowed aggregations, ingested offline and online.

``customers`` holds the profile of each customer; ``transactions`` aggregates
each customer's spending over sliding 1-day and 7-day windows. Ingestion
writes Parquet (offline, for training) and the online store (SQLite by
default, Redis with ``--online``), computes the feature statistics and saves
both sets in the catalog. The feature vector picks what the model is enriched
with at serving time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import servegraph.featurestore as fstore
from servegraph.featurestore.targets import BaseTarget, online_target_for

from . import check

PROFILE = ["age", "tenure_years"]
WINDOWS = ["1d", "7d"]
PERIOD = "6h"  # sliding windows move in 6-hour steps


@dataclass
class Features:
    """The ingested feature sets and the vector the model uses."""

    customers: fstore.FeatureSet
    transactions: fstore.FeatureSet
    vector: fstore.FeatureVector
    columns: list[str]  # the vector's feature columns, in order


def targets(online: str) -> list[BaseTarget]:
    """Parquet (offline) plus the online store at ``online`` (SQLite or Redis URL)."""
    return [fstore.ParquetTarget(), online_target_for(online)]


def build_and_ingest(
    project: str, customers: pd.DataFrame, history: pd.DataFrame, online: str
) -> Features:
    """Define, ingest and check the feature sets; save the feature vector."""
    profile = fstore.FeatureSet(
        "customers", entities=["customer_id"], description="customer profile", project=project
    )
    fstore.ingest(profile, customers, targets=targets(online))

    spending = fstore.FeatureSet(
        "transactions",
        entities=["customer_id"],
        timestamp_key="time",
        description="card spending per customer over sliding windows",
        project=project,
    )
    spending.add_aggregation("amount", ["avg", "max", "count"], WINDOWS, period=PERIOD)
    rows = fstore.ingest(spending, history, targets=targets(online))
    check(
        rows is not None and len(rows) == len(history),
        f"ingesting {len(history)} transactions gave {0 if rows is None else len(rows)} rows",
    )

    aggregates = [n for agg in spending.aggregations for n in agg.feature_names()]
    vector = fstore.FeatureVector(
        "fraud-features",
        [f"customers.{c}" for c in PROFILE] + [f"transactions.{c}" for c in aggregates],
        description="customer profile and recent spending",
        project=project,
    )
    vector.save()
    check_online(vector, int(customers["customer_id"].iloc[0]))
    return Features(profile, spending, vector, [*PROFILE, *aggregates])


def check_online(vector: fstore.FeatureVector, customer_id: int) -> None:
    """The online store must serve every feature of a known customer."""
    service = fstore.get_online_feature_service(vector)
    try:
        row = service.get([{"customer_id": customer_id}])[0]
    finally:
        service.close()
    missing = [name for name, value in row.items() if value is None]
    check(not missing, f"the online store has no {missing} for customer {customer_id}")
