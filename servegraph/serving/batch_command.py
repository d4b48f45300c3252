"""``servegraph batch SPEC --input DATA --output PREDS``: a serving graph as a batch job.

Every row of ``--input`` (Parquet or CSV) runs through the graph of SPEC (the
same specs ``servegraph serve`` takes), ``--concurrency`` rows at once; the
rows that succeed, with the columns their answer adds, go to ``--output`` in
input order (Parquet or CSV, by extension); rows that fail go, with their row
number and error, to ``--errors`` (default ``<output>-errors.<ext>``). The exit
code is 0 even when rows fail, unless ``--fail-on-error``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from servegraph.errors import ConfigError
from servegraph.serving.stream_source import DEFAULT_CONCURRENCY

FORMATS = (".parquet", ".csv")
EXAMPLES = """\
examples:
  servegraph batch function.yaml --input data.parquet --output preds.parquet
  servegraph batch function.yaml --input data.csv --output preds.csv --concurrency 16
  servegraph batch fn.yaml --input x.csv --output y.parquet --path /v2/models/m/infer
  servegraph batch fn.yaml --input x.csv --output y.csv --fail-on-error   # exit 1 on a bad row
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "batch",
        help="run a serving graph over a data set (Parquet/CSV in, Parquet/CSV out)",
        description=(
            "Run every row of a data set through a function's graph, keeping row order.\n"
            "Failed rows go, with their errors, to a separate file; the exit code is 0\n"
            "unless --fail-on-error."
        ),
        epilog=EXAMPLES,
    )
    parser.add_argument("spec", help="function YAML (fn.export / fn.to_yaml) or Python file")
    parser.add_argument("--input", required=True, help="data set to score (.parquet or .csv)")
    parser.add_argument("--output", required=True, help="answers, in row order (.parquet/.csv)")
    parser.add_argument("--errors", help="failed rows (default: <output>-errors.<ext>)")
    parser.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="rows run at once"
    )
    parser.add_argument(
        "--path", default="/", help="event path (a /v2/models/NAME/infer path sends V2 inputs)"
    )
    parser.add_argument("--function", help="variable holding the function in a Python SPEC")
    parser.add_argument("--fail-on-error", action="store_true", help="exit 1 when any row failed")
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    return parser


def _check_format(option: str, path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(
            f"The '{option}' file must end in .parquet or .csv. Got {str(path)!r} instead."
        )


def read_table(path: Path) -> Any:
    """A DataFrame from a Parquet or CSV file."""
    import pandas as pd

    _check_format("--input", path)
    if not path.is_file():
        raise ConfigError(f"The '--input' file {str(path)!r} does not exist.")
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    return pd.read_parquet(path)


def write_table(frame: Any, path: Path) -> None:
    """Write a DataFrame as Parquet or CSV (by extension); nested values as Python lists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def _errors_path(output: Path, errors: str | None) -> Path:
    if errors:
        path = Path(errors)
        _check_format("--errors", path)
        return path
    return output.with_name(f"{output.stem}-errors{output.suffix}")


def score(args: argparse.Namespace) -> tuple[int, int]:
    """Run the job; return (rows written to --output, rows written to --errors)."""
    import pandas as pd

    from servegraph.serving.batch import run_rows
    from servegraph.serving.commands import load_server

    output = Path(args.output)
    _check_format("--output", output)
    errors_path = _errors_path(output, args.errors)
    frame = read_table(Path(args.input))
    rows: list[dict[str, Any]] = frame.to_dict("records")
    server = load_server(args.spec, args.function)

    async def main() -> list[Any]:
        try:
            with _progress(len(rows), not args.no_progress) as advance:
                return await run_rows(
                    server, rows, path=args.path, concurrency=args.concurrency, on_done=advance
                )
        finally:
            await server.close()

    results = asyncio.run(main())
    good = [i for i, r in enumerate(results) if r.error is None]
    bad = [i for i, r in enumerate(results) if r.error is not None]
    answers = pd.DataFrame([results[i].output for i in good], index=frame.index[good])
    scored = frame.iloc[good].drop(columns=[c for c in answers.columns if c in frame.columns])
    write_table(pd.concat([scored, answers], axis=1), output)
    if bad:
        failed = frame.iloc[bad].copy()
        failed.insert(0, "row", bad)
        failed["error"] = [results[i].error for i in bad]
        write_table(failed, errors_path)
    elif errors_path.exists():
        errors_path.unlink()  # a previous run's failures would be taken for this run's
    return len(good), len(bad)


class _progress:
    """A rich progress bar on stderr, redrawn every 0.5% of the rows (None when not shown)."""

    def __init__(self, total: int, show: bool) -> None:
        self.total, self.show = total, show
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = bar = Progress(console=Console(stderr=True))
        bar.start()
        task = bar.add_task("scoring rows", total=self.total)
        every = max(self.total // 200, 1)
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            if done[0] % every == 0 or done[0] == self.total:
                bar.update(task, completed=done[0])

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def run(args: argparse.Namespace) -> int:
    written, failed = score(args)
    where = f"; {failed} failed rows in {_errors_path(Path(args.output), args.errors)}"
    print(f"{written} rows scored into {args.output}{where if failed else ''}", file=sys.stderr)
    return 1 if failed and args.fail_on_error else 0
