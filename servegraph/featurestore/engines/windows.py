"""storey's windowed aggregations computed vectorized over a whole DataFrame.

Events are ordered by entity and event time; each row's window is a range of
rows ``[start, i]`` of its entity found with one ``searchsorted``, and every
operation is a difference of cumulative sums (count, sum, sqr, avg, std, var)
or a variable-window pandas rolling (min, max). Windows follow storey (see
DESIGN.md's "Known traps"):

- sliding (``period`` set): the buckets of ``period`` ending with the event's
  own bucket, i.e. events whose period-floored time is within ``window`` of the
  event's period-floored time;
- fixed: storey's ``FixedWindows`` end at the end of the event's unit of the
  smallest window (``1h`` -> the hour) and reach ``window`` back by buckets of
  ``gcd(windows) / 2``.

Like storey, ``count`` counts events whose value is missing, ``sum``/``avg``/
``sqr``/``std``/``var`` are NaN when a missing value is in the window, and
``min``/``max``/``first``/``last`` skip missing values; ``std``/``var`` are NaN
below two events.
"""

from __future__ import annotations

import math
from functools import cached_property, reduce
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.indexers import BaseIndexer
from storey.utils import get_one_unit_of_duration, parse_duration

from ..aggregation import Aggregation

_MS = 1_000_000  # ns per ms


class _Bounds(BaseIndexer):  # type: ignore[misc]
    """Precomputed [start, end) row ranges for pandas rolling."""

    def __init__(self, start: np.ndarray[Any, Any], end: np.ndarray[Any, Any]) -> None:
        super().__init__()
        self._start, self._end = start, end

    def get_window_bounds(
        self,
        num_values: int = 0,
        min_periods: int | None = None,
        center: bool | None = None,
        closed: str | None = None,
        step: int | None = None,
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        return self._start, self._end


def entity_codes(df: pd.DataFrame, keys: list[str]) -> np.ndarray[Any, Any]:
    """One integer per entity (first appearance order)."""
    if len(keys) == 1:
        codes, _ = pd.factorize(df[keys[0]], sort=False)
        return np.asarray(codes, dtype=np.int64)
    return np.asarray(df.groupby(keys, sort=False).ngroup(), dtype=np.int64)


def _window_plan(agg: Aggregation) -> tuple[int, tuple[int, int] | None, list[tuple[int, str]]]:
    """(period ms, fixed windows' (unit ms, reset ms) or None, [(window ms, window text)])."""
    windows = [(parse_duration(w), w) for w in agg.windows]
    if agg.period:
        return parse_duration(agg.period), None, windows
    smallest = min(windows)[1]
    sizes = [int(ms) for ms, _ in windows]
    period = reduce(math.gcd, sizes) // 2
    return period, (get_one_unit_of_duration(smallest), int(np.lcm.reduce(sizes))), windows


def _cumsum(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out = np.zeros(len(values) + 1, dtype=np.float64)
    np.cumsum(values, out=out[1:])
    return out


class _Column:
    """Cumulative sums of one value column over the ordered rows, each computed once
    and only when an operation needs it (``max`` alone needs none)."""

    def __init__(self, values: np.ndarray[Any, Any]) -> None:
        self.values = values

    @cached_property
    def _missing(self) -> np.ndarray[Any, Any]:
        return np.asarray(np.isnan(self.values), dtype=bool)

    @cached_property
    def _clean(self) -> np.ndarray[Any, Any]:
        return np.where(self._missing, 0.0, self.values)

    @cached_property
    def sum(self) -> np.ndarray[Any, Any]:
        return _cumsum(self._clean)

    @cached_property
    def sqr(self) -> np.ndarray[Any, Any]:
        return _cumsum(self._clean * self._clean)

    @cached_property
    def missing(self) -> np.ndarray[Any, Any]:
        return _cumsum(self._missing.astype(np.float64))

    @cached_property
    def last_valid(self) -> np.ndarray[Any, Any]:
        valid = np.where(self._missing, -1, np.arange(len(self.values)))
        return np.maximum.accumulate(valid) if len(self.values) else valid

    @cached_property
    def next_valid(self) -> np.ndarray[Any, Any]:
        nxt = np.where(self._missing, len(self.values), np.arange(len(self.values)))
        return np.minimum.accumulate(nxt[::-1])[::-1] if len(self.values) else nxt


def _op(
    op: str,
    col: _Column,
    start: np.ndarray[Any, Any],
    end: np.ndarray[Any, Any],
    first_start: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any]:
    n: np.ndarray[Any, Any] = (end - start).astype(np.float64)
    if op == "count":
        return n
    if op in ("sum", "sqr", "avg", "std", "var"):
        tainted = (col.missing[end] - col.missing[start]) > 0
        total = col.sum[end] - col.sum[start]
        if op == "sum":
            return np.where(tainted, np.nan, total)
        sqr = col.sqr[end] - col.sqr[start]
        if op == "sqr":
            return np.where(tainted, np.nan, sqr)
        if op == "avg":
            return np.where(tainted | (n == 0), np.nan, total / np.where(n == 0, 1, n))
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (n * sqr - total * total) / (n * (n - 1))
        var = np.where(tainted | (n < 2), np.nan, np.maximum(var, 0.0))
        return np.sqrt(var) if op == "std" else var
    if op in ("min", "max"):
        rolled = pd.Series(col.values).rolling(_Bounds(start, end), min_periods=1)
        return np.asarray(rolled.min() if op == "min" else rolled.max(), dtype=np.float64)
    if op == "last":
        idx = col.last_valid[end - 1]
        return np.where(idx >= start, col.values[np.maximum(idx, 0)], np.nan)
    if op == "first":
        idx = col.next_valid[np.minimum(first_start, len(col.values) - 1)]
        ok = idx < end
        return np.where(ok, col.values[np.minimum(idx, len(col.values) - 1)], np.nan)
    raise ValueError(f"unknown aggregation operation {op!r}")


def _window_ranges(
    plan: tuple[int, tuple[int, int] | None, list[tuple[int, str]]],
    codes_o: np.ndarray[Any, Any],
    ms_o: np.ndarray[Any, Any],
    group_start: np.ndarray[Any, Any],
    lowest: int,
) -> list[tuple[str, np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """[(window text, first row of each row's window, first row for ``first``)] of one plan."""
    period, fixed, windows = plan
    reach = max(ms for ms, _ in windows) + period
    base = lowest // period * period - reach  # keeps every bucket below >= 0
    bucket = ms_o // period * period - base  # epoch-aligned like storey's buckets
    floor: np.ndarray[Any, Any] | None = None
    first_ref = None
    if fixed is None:
        ref = bucket
    else:  # fixed: the bucket holding the last ms of the event's unit, reset every lcm
        unit, reset = fixed
        ref = ((ms_o // unit + 1) * unit - 1) // period * period - base
        first_ref = (ms_o // unit * unit) // period * period - base
        floor = (ms_o // reset * reset) // period * period - base
    span = int(bucket.max()) + reach + 1
    sorted_key = codes_o * span + bucket
    out = []
    for window_ms, window in windows:
        start = np.searchsorted(sorted_key, codes_o * span + ref - window_ms, side="right")
        start = np.maximum(start.astype(np.int64), group_start)
        if floor is not None:
            reset_start = np.searchsorted(sorted_key, codes_o * span + floor - 1, side="right")
            start = np.maximum(start, reset_start.astype(np.int64))
        if first_ref is None:
            first_start = start
        else:  # storey's fixed-window "first": the first event of the current unit
            first_start = np.searchsorted(
                sorted_key, codes_o * span + first_ref - 1, side="right"
            ).astype(np.int64)
        out.append((window, start, first_start))
    return out


def aggregate_frame(
    df: pd.DataFrame, keys: list[str], timestamp_key: str, aggregations: list[Aggregation]
) -> pd.DataFrame:
    """The aggregation features of every row of ``df`` (same index), as storey computes them.

    Rows are taken in event-time order within each entity (stable for equal times).
    """
    if df.empty or not aggregations:
        return pd.DataFrame(index=df.index)
    codes = entity_codes(df, keys)
    times = df[timestamp_key]
    if not pd.api.types.is_datetime64_any_dtype(times):  # to_datetime of times costs 0.3 s/1M
        times = pd.to_datetime(times)
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    ms = times.to_numpy(dtype="datetime64[ns]").astype(np.int64) // _MS
    order = np.lexsort((ms, codes))  # by entity, then time; stable
    codes_o, ms_o = codes[order], ms[order]
    n = len(df)
    end = np.arange(1, n + 1, dtype=np.int64)
    group_start = np.searchsorted(codes_o, codes_o, side="left").astype(np.int64)
    lowest = int(ms_o.min())
    columns: dict[str, _Column] = {}
    out: dict[str, np.ndarray[Any, Any]] = {}
    # aggregations with the same windows and period share their row ranges
    ranges: dict[tuple[Any, ...], list[tuple[str, Any, Any]]] = {}
    for agg in aggregations:
        col = columns.get(agg.column)
        if col is None:
            values = pd.to_numeric(df[agg.column].to_numpy()[order], errors="coerce")
            col = columns[agg.column] = _Column(np.asarray(values, dtype=np.float64))
        plan = _window_plan(agg)
        key = (plan[0], plan[1], tuple(plan[2]))
        if key not in ranges:
            ranges[key] = _window_ranges(plan, codes_o, ms_o, group_start, lowest)
        for window, start, first_start in ranges[key]:
            for op in agg.operations:
                values = _op(op, col, start, end, first_start)
                result = np.empty(n, dtype=np.float64)
                result[order] = values
                out[f"{agg.name}_{op}_{window}"] = result
    return pd.DataFrame(out, index=df.index, copy=False)  # no consolidation copy
