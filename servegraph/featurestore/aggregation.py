"""Windowed aggregations of a feature set, computed by storey's ``AggregateByKey``.

An aggregation of ``column`` with operations over windows yields one feature
per (operation, window), named ``{name}_{operation}_{window}`` like storey:

>>> Aggregation("amount", ["sum", "avg"], ["1h"], period="10m").feature_names()
['amount_sum_1h', 'amount_avg_1h']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from storey import FieldAggregator, FixedWindows, SlidingWindows

from servegraph.errors import FeatureStoreError

# our operation names -> storey's
OPERATIONS = {
    "count": "count",
    "sum": "sum",
    "sqr": "sqr",
    "avg": "avg",
    "min": "min",
    "max": "max",
    "std": "stddev",
    "var": "stdvar",
    "first": "first",
    "last": "last",
}


@dataclass
class Aggregation:
    """One ``add_aggregation`` call: sliding windows when ``period`` is set, else fixed."""

    column: str
    operations: list[str]
    windows: list[str]
    period: str | None = None
    name: str = field(default="")

    def __post_init__(self) -> None:
        self.name = self.name or self.column
        if not self.operations:
            raise FeatureStoreError(
                f"The 'operations' of aggregation {self.name!r} must not be empty."
            )
        for op in self.operations:
            if op not in OPERATIONS:
                raise FeatureStoreError(
                    f"The 'operations' of aggregation {self.name!r} must be among "
                    f"{sorted(OPERATIONS)}. Got {op!r} instead."
                )
        if not self.windows:
            raise FeatureStoreError(
                f"The 'windows' of aggregation {self.name!r} must not be empty."
            )
        try:  # validate the window strings now rather than at ingestion
            self.to_storey()
        except ValueError as exc:
            raise FeatureStoreError(
                f"Bad 'windows'={self.windows!r} / 'period'={self.period!r} for aggregation "
                f"{self.name!r}: {exc}"
            ) from exc

    def feature_names(self) -> list[str]:
        return [f"{self.name}_{op}_{window}" for window in self.windows for op in self.operations]

    def history_needed(self) -> pd.Timedelta:
        """How far back events still count: the largest window plus one period (buckets)."""
        windows = self.to_storey().windows
        return pd.Timedelta(milliseconds=windows.max_window_millis + windows.period_millis)

    def to_storey(self) -> FieldAggregator:
        """The storey ``FieldAggregator`` computing this aggregation."""
        windows = (
            SlidingWindows(self.windows, self.period) if self.period else FixedWindows(self.windows)
        )
        ops = [OPERATIONS[op] for op in self.operations]
        return FieldAggregator(self.name, self.column, ops, windows)

    def rename_map(self) -> dict[str, str]:
        """storey output column -> our feature name (``std``/``var`` are spelled differently)."""
        return {
            f"{self.name}_{OPERATIONS[op]}_{window}": f"{self.name}_{op}_{window}"
            for window in self.windows
            for op in self.operations
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
