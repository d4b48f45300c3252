"""Imputer: fill missing values with a per-column or a default value."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .base import FeatureStep


class Imputer(FeatureStep):
    """Replace missing values (None, NaN) with ``mapping[column]`` or ``default_value``.

    Parameters:
        method: kept for MLRun compatibility (MLRun ignores it too).
        default_value: the value for columns not in ``mapping`` (None: left missing).
        mapping: ``{column: value}``.

    >>> Imputer(mapping={"a": 0}, default_value=-1).do({"a": None, "b": float("nan"), "c": 3})
    {'a': 0, 'b': -1, 'c': 3}
    """

    def __init__(
        self,
        method: str = "avg",
        default_value: Any = None,
        mapping: dict[str, Any] | None = None,
        name: str | None = None,
        context: Any = None,
    ) -> None:
        super().__init__(name, context)
        self.method = method
        self.default_value = default_value
        self.mapping = dict(mapping or {})

    def _do_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            feature: self.mapping.get(feature, self.default_value) if _missing(value) else value
            for feature, value in row.items()
        }

    def _do_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        fills = {c: self.mapping.get(c, self.default_value) for c in frame.columns}
        fills = {c: v for c, v in fills.items() if v is not None}
        if not fills:
            return frame
        out = frame.copy()
        for column, value in fills.items():
            series = out[column]
            mask = series.isna()
            if mask.any():
                if series.dtype != object and not _fits(series, value):
                    series = series.astype(object)
                out[column] = series.where(~mask, value)
        return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _fits(series: pd.Series, value: Any) -> bool:
    kind = series.dtype.kind
    if kind == "f":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False
