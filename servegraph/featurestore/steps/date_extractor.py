"""DateExtractor: date-time parts of a timestamp column as new columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from servegraph.errors import GraphError

from .base import FeatureStep, missing_feature


class DateExtractor(FeatureStep):
    """Add ``<timestamp_col>_<part>`` for each pandas Timestamp attribute in ``parts``.

    Parameters:
        parts: attribute names of ``pandas.Timestamp`` (``hour``, ``day_of_week``,
            ``is_month_end``, ...), or a dict ``{part: column_name}`` to name the columns.
        timestamp_col: the timestamp column (default ``"timestamp"``).

    >>> DateExtractor(parts=["hour", "day_of_week"], timestamp_col="t").do(
    ...     {"t": "2026-11-29 07:30:00"})
    {'t': '2026-11-29 07:30:00', 't_hour': 7, 't_day_of_week': 6}
    """

    def __init__(
        self,
        parts: list[str] | dict[str, str],
        timestamp_col: str | None = None,
        name: str | None = None,
        context: Any = None,
    ) -> None:
        super().__init__(name, context)
        if isinstance(parts, str) or not parts:
            raise GraphError(
                "The 'parts' parameter of DateExtractor must be a non-empty list of "
                f"Timestamp attributes. Got {parts!r} instead."
            )
        unknown = [p for p in parts if not hasattr(pd.Timestamp(0), p)]
        if unknown:
            raise GraphError(
                f"DateExtractor: {unknown} are not pandas Timestamp attributes "
                "(e.g. hour, day_of_week, month, is_month_end)"
            )
        self.parts = parts
        self.timestamp_col = timestamp_col or "timestamp"
        self._names = (
            dict(parts)
            if isinstance(parts, dict)
            else {p: f"{self.timestamp_col}_{p}" for p in parts}
        )

    def _do_row(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.timestamp_col not in row:
            raise missing_feature(self, self.timestamp_col)
        timestamp = pd.Timestamp(row[self.timestamp_col])
        for part, column in self._names.items():
            row[column] = getattr(timestamp, part)
        return row

    def _do_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.timestamp_col not in frame.columns:
            raise missing_feature(self, self.timestamp_col)
        times = pd.to_datetime(frame[self.timestamp_col])
        out = frame.copy()
        for part, column in self._names.items():
            value = getattr(times.dt, part, None)
            if value is None:
                value = times.map(_attribute(part))
            elif value.dtype.kind in "iu":
                value = value.astype("int64")  # as a frame of the row path's Python ints
            out[column] = value
        return out


def _attribute(part: str) -> Callable[[pd.Timestamp], Any]:
    def get(timestamp: pd.Timestamp) -> Any:
        return getattr(timestamp, part)

    return get
