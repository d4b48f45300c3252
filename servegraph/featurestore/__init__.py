"""The feature store: feature sets, ingestion on storey, offline and online retrieval.

>>> from servegraph.featurestore import FeatureSet, FeatureVector, ingest
"""

from __future__ import annotations

from .aggregation import Aggregation
from .enrich import EnrichStep
from .feature_set import FeatureSet, get_feature_set
from .impute import ImputePolicy
from .ingest import InferOptions, ingest, ingest_stream
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
]
