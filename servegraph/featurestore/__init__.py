"""The feature store: feature sets, ingestion on storey, offline and online retrieval.

::

    import servegraph.featurestore as fstore

    orders = fstore.FeatureSet("orders", entities=["customer_id"], timestamp_key="time")
    orders.graph.to("my_module.Clean", name="clean")           # the serving-graph builder
    orders.add_aggregation("amount", ["sum", "avg"], ["1h", "1d"], period="10m")
    fstore.ingest(orders, "orders.parquet")       # Parquet + online store + stats + catalog

    vec = fstore.FeatureVector("churn", ["orders.*"], label_feature="labels.churned")
    vec.save()
    train = fstore.get_offline_features(vec, entity_rows, entity_timestamp_column="time")
    svc = fstore.get_online_feature_service("churn", impute_policy={"*": "$mean"})
    svc.get([{"customer_id": 7}])
    svc.close()

In a serving graph, ``EnrichStep(feature_vector=..., key=...)`` adds the features
to each event; ``ingest_stream`` (a coroutine; ``ingest_stream_sync`` from sync code)
keeps a feature set up to date from a stream.
Online stores: SQLite (embedded default) or Redis, chosen by
``SERVEGRAPH_ONLINE_STORE`` or the feature set's targets.
"""

from __future__ import annotations

from .aggregation import Aggregation
from .enrich import EnrichStep
from .feature_set import FeatureSet, get_feature_set
from .impute import ImputePolicy
from .ingest import InferOptions, ingest, ingest_stream, ingest_stream_sync
from .model import Entity, Feature
from .offline import get_offline_features
from .online import OnlineFeatureService, get_online_feature_service
from .sources import StreamSource
from .stats import compute_stats
from .targets import ParquetTarget, RedisTarget, SQLiteTarget
from .vector import FeatureVector, get_feature_vector

__all__ = [
    "Aggregation",
    "EnrichStep",
    "Entity",
    "Feature",
    "FeatureSet",
    "FeatureVector",
    "ImputePolicy",
    "InferOptions",
    "OnlineFeatureService",
    "ParquetTarget",
    "RedisTarget",
    "SQLiteTarget",
    "StreamSource",
    "compute_stats",
    "get_feature_set",
    "get_feature_vector",
    "get_offline_features",
    "get_online_feature_service",
    "ingest",
    "ingest_stream",
    "ingest_stream_sync",
]
