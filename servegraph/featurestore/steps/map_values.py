"""MapValues: replace values by a lookup table or by ranges."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from servegraph.errors import GraphError

from .base import FeatureStep


class MapValues(FeatureStep):
    """Map the values of some columns; the result holds only the mapped columns.

    ``mapping[column]`` is either ``{old: new}`` (values not listed stay as they
    are) or ``{"ranges": {new: [low, high]}}``: a value ``low <= v < high`` becomes
    ``new`` (``"-inf"`` / ``"inf"`` for open ends; the first matching range wins,
    values in no range stay). With ``with_original_features=True`` the mapped
    values are added as ``<column>_<suffix>`` beside every original column.

    >>> MapValues(mapping={"age": {"U": "0"}}).do({"age": "U", "x": 1})
    {'age': '0'}
    >>> step = MapValues(mapping={"n": {"ranges": {"neg": ["-inf", 0], "pos": [0, "inf"]}}},
    ...                  with_original_features=True)
    >>> step.do({"n": -2})
    {'n_mapped': 'neg', 'n': -2}
    """

    def __init__(
        self,
        mapping: dict[str, dict[Any, Any]],
        with_original_features: bool = False,
        suffix: str = "mapped",
        name: str | None = None,
        context: Any = None,
    ) -> None:
        super().__init__(name, context)
        if not isinstance(mapping, dict) or not all(isinstance(m, dict) for m in mapping.values()):
            raise GraphError(
                "The 'mapping' parameter of MapValues must be a dict of column -> dict. "
                f"Got {mapping!r} instead."
            )
        self.mapping = mapping
        self.with_original_features = with_original_features
        self.suffix = suffix
        self._ranges = {c: _ranges(c, m["ranges"]) for c, m in mapping.items() if "ranges" in m}

    def _target(self, column: str) -> str:
        return f"{column}_{self.suffix}" if self.with_original_features else column

    def _map(self, column: str, value: Any) -> Any:
        ranges = self._ranges.get(column)
        if ranges is not None:
            for new, low, high in ranges:
                if low <= value < high:
                    return new
            return value
        return self.mapping[column].get(value, value)

    def _do_row(self, row: dict[str, Any]) -> dict[str, Any]:
        out = {
            self._target(column): self._map(column, value)
            for column, value in row.items()
            if column in self.mapping
        }
        if self.with_original_features:
            out.update(row)
        return out

    def _do_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        mapped: dict[str, pd.Series] = {}
        for column in frame.columns:
            if column not in self.mapping:
                continue
            series = frame[column]
            ranges = self._ranges.get(column)
            if ranges is not None:
                result = series.astype(object)
                todo = pd.Series(True, index=series.index)
                for new, low, high in ranges:
                    hit = todo & (series >= low) & (series < high)
                    result = result.where(~hit, new)
                    todo &= ~hit
                mapped[self._target(column)] = result
            else:
                table = self.mapping[column]
                mapped[self._target(column)] = series.map(_lookup(table))
        out = pd.DataFrame(mapped, index=frame.index)
        if self.with_original_features:
            out = pd.concat([out, frame], axis=1)
        return out


def _lookup(table: dict[Any, Any]) -> Callable[[Any], Any]:
    def lookup(value: Any) -> Any:
        return table.get(value, value)

    return lookup


def _ranges(column: str, ranges: Any) -> list[tuple[Any, float, float]]:
    if not isinstance(ranges, dict):
        raise GraphError(
            f"MapValues: the 'ranges' of column {column!r} must be a dict of "
            f"value -> [low, high]. Got {ranges!r} instead."
        )
    out = []
    for new, bounds in ranges.items():
        if not isinstance(bounds, list | tuple) or len(bounds) != 2:
            raise GraphError(
                f"MapValues: the range of {new!r} for column {column!r} must be [low, high]. "
                f"Got {bounds!r} instead."
            )
        out.append((new, _bound(bounds[0]), _bound(bounds[1])))
    return out


def _bound(value: Any) -> float:
    if value == "-inf":
        return -math.inf
    if value == "inf":
        return math.inf
    return float(value)
