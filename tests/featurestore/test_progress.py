"""The ingestion progress bar: a storey Map that counts rows, only on terminals."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest
import storey

from servegraph.featurestore import FeatureSet, ingest
from servegraph.featurestore.progress import MIN_ROWS, progress_step

storey_engine = sys.modules["servegraph.featurestore.engines.storey"]


def test_no_bar_for_small_or_non_terminal_runs() -> None:
    with progress_step(MIN_ROWS * 10, "x") as step:  # pytest captures stdout: not a tty
        assert step is None
    with progress_step(10, "x") as step:
        assert step is None


def test_forced_bar_passes_rows_through() -> None:
    with progress_step(2500, "rows", force=True) as step:
        assert step is not None
        flow = storey.build_flow(
            [storey.SyncEmitSource(), step, storey.Reduce(0, lambda acc, body: acc + body)]
        )
        controller = flow.run()
        for i in range(2500):
            controller.emit(i)
        controller.terminate()
        assert controller.await_termination() == sum(range(2500))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_force_false_hides_the_bar_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", _Terminal())
    with progress_step(MIN_ROWS * 10, "x") as step:
        assert step is not None  # auto: a terminal and enough rows
    with progress_step(MIN_ROWS * 10, "x", force=False) as step:
        assert step is None


def test_ingest_progress_argument_reaches_the_bar(
    events: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[bool] = []

    @contextmanager
    def spy(total: int, description: str, force: bool | None = None) -> Iterator[Any]:
        with progress_step(total, description, force) as step:
            shown.append(step is not None)
            yield step

    monkeypatch.setattr(storey_engine, "progress_step", spy)
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time")
    fset.add_aggregation("amount", ["sum"], ["1h"], period="10m")
    forced = ingest(fset, events, progress=True, engine="storey")  # the row-by-row engine
    auto = ingest(fset, events, engine="storey")
    assert shown == [True, False]  # small and not a terminal: auto hides it
    assert forced is not None and auto is not None
    pd.testing.assert_frame_equal(forced, auto)
