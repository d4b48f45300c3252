"""OneHotEncoder: one 0/1 column per category, in place of the categorical column."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from servegraph.errors import GraphError

from .base import FeatureStep

logger = logging.getLogger("servegraph.featurestore")


class OneHotEncoder(FeatureStep):
    """Replace each mapped column by ``<column>_<category>`` columns of 0/1.

    A value outside the categories gives zeros in every column (and a warning
    for a row). Spaces and dashes in a category become ``_`` in the name.

    Parameters:
        mapping: ``{column: [category, ...]}``; categories are ints or strings.

    >>> OneHotEncoder(mapping={"color": ["red", "dark blue"]}).do({"color": "red", "n": 1})
    {'color_red': 1, 'color_dark_blue': 0, 'n': 1}
    """

    def __init__(
        self, mapping: dict[str, list[int | str]], name: str | None = None, context: Any = None
    ) -> None:
        super().__init__(name, context)
        if not isinstance(mapping, dict):
            raise GraphError(
                f"The 'mapping' parameter of OneHotEncoder must be a dict of column -> "
                f"categories. Got {type(mapping).__name__} instead."
            )
        for column, values in mapping.items():
            bad = [v for v in values if not isinstance(v, str | int | np.integer) or v is True]
            if bad or isinstance(values, str):
                raise GraphError(
                    f"The categories of column {column!r} in OneHotEncoder's 'mapping' must be "
                    f"a list of ints or strings. Got {values!r} instead."
                )
        # duplicates dropped, order kept
        self.mapping = {column: list(dict.fromkeys(values)) for column, values in mapping.items()}

    def _columns(self, column: str) -> list[tuple[str, Any]]:
        return [(f"{column}_{_sanitized(c)}", c) for c in self.mapping[column]]

    def _do_row(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for feature, value in row.items():
            if feature not in self.mapping:
                out[feature] = value
                continue
            if value not in self.mapping[feature]:
                logger.warning(
                    "OneHotEncoder %r: no category %r for feature %r", self.name, value, feature
                )
            for name, category in self._columns(feature):
                out[name] = int(value == category)
        return out

    def _do_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts: list[pd.DataFrame | pd.Series] = []
        for column in frame.columns:
            if column not in self.mapping:
                parts.append(frame[column])
                continue
            encoded = {
                name: (frame[column] == category).astype("int64")
                for name, category in self._columns(column)
            }
            parts.append(pd.DataFrame(encoded, index=frame.index))
        return pd.concat(parts, axis=1) if parts else frame


def _sanitized(category: Any) -> Any:
    return re.sub("[ -]", "_", category) if isinstance(category, str) else category
