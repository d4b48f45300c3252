"""The ingestion progress bar: a storey Map that counts rows, only on terminals."""

from __future__ import annotations

import storey

from servegraph.featurestore.progress import MIN_ROWS, progress_step


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
