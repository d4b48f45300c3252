"""DropFeatures: remove columns."""

from __future__ import annotations

from typing import Any

import pandas as pd

from servegraph.errors import GraphError

from .base import FeatureStep, missing_feature


class DropFeatures(FeatureStep):
    """Drop the listed features; a feature the data lacks is an error naming it.

    >>> DropFeatures(features=["age"]).do({"age": 3, "id": 1})
    {'id': 1}
    """

    def __init__(self, features: list[str], name: str | None = None, context: Any = None) -> None:
        super().__init__(name, context)
        if isinstance(features, str) or not isinstance(features, list | tuple):
            raise GraphError(
                "The 'features' parameter of DropFeatures must be a list of names. "
                f"Got {features!r} instead."
            )
        self.features = list(features)

    def _do_row(self, row: dict[str, Any]) -> dict[str, Any]:
        for feature in self.features:
            if feature not in row:
                raise missing_feature(self, feature)
            del row[feature]
        return row

    def _do_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        for feature in self.features:
            if feature not in frame.columns:
                raise missing_feature(self, feature)
        return frame.drop(columns=self.features)
