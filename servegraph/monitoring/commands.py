"""``servegraph monitor``: run the monitoring job once, on a schedule, or show results.

servegraph monitor [--project P] [--endpoint E] [--schedule CRON] [--show]
                   [--config FILE] [--window 1h] [--batch-size N] [--stream URL]
                   [--no-plots]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from servegraph.console import add_output_option

_STATUS_STYLE = {
    "no_drift": "green",
    "possible_drift": "yellow",
    "drift_detected": "bold red",
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "monitor",
        help="measure drift of model endpoints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--project", help="only endpoints of this project")
    parser.add_argument("--endpoint", help="only this endpoint id")
    parser.add_argument("--schedule", metavar="CRON", help="run on a cron schedule, forever")
    parser.add_argument("--show", action="store_true", help="print the results, do not run")
    parser.add_argument("--config", help="monitoring settings YAML (default: per project)")
    parser.add_argument("--window", help="time window, e.g. 1h or 10min")
    parser.add_argument("--batch-size", type=int, help="records read per batch")
    parser.add_argument("--stream", help="tracking stream URL")
    parser.add_argument("--no-plots", action="store_true", help="skip PNG/HTML reports")
    add_output_option(parser)
    parser.add_argument("--max-runs", type=int, help=argparse.SUPPRESS)  # bounded --schedule
    return parser


def _number(value: Any, spec: str) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return format(float(value), spec)


def show(endpoint: str | None = None, console: Console | None = None) -> Table:
    """Print one row per endpoint window (the latest per endpoint unless one is named)."""
    from servegraph.monitoring.results import ResultStore

    windows = ResultStore().windows(endpoint)
    if endpoint is None and len(windows):
        windows = windows.groupby("endpoint_id", as_index=False).tail(1)
    table = Table(title="model endpoint drift")
    for column in ("endpoint", "window start", "requests", "errors", "p99 ms", "drift", "status"):
        table.add_column(column, overflow="fold")
    for row in windows.to_dict("records"):
        status = str(row["status"])
        style = _STATUS_STYLE.get(status, "")
        table.add_row(
            str(row["endpoint_id"]),
            str(row["window_start"]),
            str(row["requests"]),
            _number(row["error_rate"], ".1%"),
            _number(row["latency_p99"], ".1f"),
            _number(row["drift_value"], ".3f"),
            f"[{style}]{status}[/]" if style else status,
        )
    (console or Console()).print(table)
    return table


def show_performance(endpoint: str | None = None, console: Console | None = None) -> Table:
    """Print the performance of the labelled windows (the latest per endpoint)."""
    from servegraph.monitoring.performance import list_performance

    rows = list_performance(endpoint)
    if endpoint is None:
        rows = list({r["endpoint_id"]: r for r in rows}.values())
    table = Table(title="model performance (labelled predictions)")
    for column in ("endpoint", "window start", "version", "labelled", "metrics"):
        table.add_column(column, overflow="fold")
    for r in rows:
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in r["metrics"].items())
        table.add_row(
            r["endpoint_id"], r["window_start"], r["model_version"], str(r["labelled"]), metrics
        )
    (console or Console()).print(table)
    return table


def show_rollouts(project: str | None = None, console: Console | None = None) -> Table:
    """Print what the retraining policy did: registered, rejected, loaded, promoted."""
    from servegraph.monitoring.rollout import list_rollouts

    table = Table(title="retraining and rollout")
    for column in ("time", "endpoint", "run", "action", "model", "detail"):
        table.add_column(column, overflow="fold")
    for r in list_rollouts(project):
        table.add_row(
            r["time"], r["endpoint_id"], r["run_id"][:12], r["action"], r["model_uri"], r["detail"]
        )
    (console or Console()).print(table)
    return table


def run(args: argparse.Namespace) -> int:
    from servegraph.monitoring.schedule import run_on_schedule, validate
    from servegraph.monitoring.settings import MonitorSettings

    if args.show:
        if args.output != "table":
            from servegraph.console import print_rows
            from servegraph.monitoring.results import ResultStore

            rows = ResultStore().windows(args.endpoint).to_dict("records")
            print_rows(rows, args.output, (), lambda r: ())
        else:
            console = Console()
            show(args.endpoint, console)
            show_performance(args.endpoint, console)
            show_rollouts(args.project, console)
        return 0
    if args.schedule:
        validate(args.schedule)
    settings = MonitorSettings.load(args.config, args.project)
    console = Console()

    def once() -> None:
        job = settings.job(
            project=args.project,
            endpoint=args.endpoint,
            window=args.window,
            batch_size=args.batch_size,
            stream_path=args.stream,
            plots=False if args.no_plots else None,
        )
        report = job.run_sync()
        console.print(
            f"read {report.records} records in {report.batches} batches; "
            f"scored {len(report.windows)} windows; {len(report.alerts)} alerts; "
            f"{len(report.retrain_runs)} retraining runs; {report.labels} labelled requests"
        )
        for step in report.rollouts:
            console.print(f"rollout: {step['action']} {step['model_uri']} {step['detail']}")
        for error in report.errors:
            console.print(f"[red]error:[/] {error}")

    if args.schedule:
        run_on_schedule(args.schedule, once, max_runs=args.max_runs)
    else:
        once()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m servegraph.monitoring.commands ...``: the sub-command on its own."""
    from servegraph.errors import ServegraphError

    parser = argparse.ArgumentParser(prog="servegraph")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["monitor", *(argv if argv is not None else sys.argv[1:])])
    try:
        return run(args)
    except ServegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
