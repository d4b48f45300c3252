"""Feature-set and serving-graph steps (MLRun's ``mlrun.feature_store.steps`` names).

Each step takes a row (a dict: storey ingestion, serving graphs) or a whole
DataFrame (the pandas engine) and computes the same values either way::

    fset.graph.to(OneHotEncoder(mapping={"color": ["red", "blue"]}))
    graph.to(DateExtractor(parts=["hour"], timestamp_col="time"))
"""

from __future__ import annotations

from .date_extractor import DateExtractor
from .drop_features import DropFeatures
from .imputer import Imputer
from .map_values import MapValues
from .one_hot_encoder import OneHotEncoder
from .set_event_metadata import SetEventMetadata

__all__ = [
    "DateExtractor",
    "DropFeatures",
    "Imputer",
    "MapValues",
    "OneHotEncoder",
    "SetEventMetadata",
]
