"""Step 6: the monitoring job: drift per feature, a plot, the alert.

The job reads the tracking stream, stores each endpoint's requests in hourly
windows and scores every window that got new data against the reference
statistics of the model's training set. The project's alert rule fires once
per drift episode (here to a JSON-lines file) and the retraining trigger
starts a run on the first drifted window.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from servegraph.monitoring.alerts import AlertEngine, AlertRule
from servegraph.monitoring.alerts.notifiers import FileNotifier
from servegraph.monitoring.drift import DriftStatus
from servegraph.monitoring.job import JobReport, MonitoringJob
from servegraph.monitoring.results import WindowResult
from servegraph.monitoring.retrain import RetrainTrigger

from . import check

WINDOW = "1h"
METRICS = ["hellinger", "tvd", "psi", "ks"]
STYLE = {
    DriftStatus.NO_DRIFT: "green",
    DriftStatus.POSSIBLE_DRIFT: "yellow",
    DriftStatus.DRIFT_DETECTED: "bold red",
}


def monitoring_job(
    project: str, stream: str, out_dir: Path, retrain: RetrainTrigger, plots: bool = True
) -> MonitoringJob:
    """The project's monitoring job: a drift alert rule and the retraining trigger.

    Jobs of a project share their progress (consumer group, results, alert
    state), so a quick check without plots can run before the full job.
    """
    alerts = AlertEngine(
        [AlertRule(name="feature-drift", kind="drift", project=project)],
        {"alerts-file": FileNotifier(path=out_dir / "alerts.jsonl")},
    )
    return MonitoringJob(
        stream_path=stream,
        project=project,
        window=WINDOW,
        output_path=out_dir / "monitoring",
        alerts=alerts,
        retrain=retrain,
        plots=plots,
    )


def window_of(report: JobReport, endpoint_id: str) -> WindowResult:
    """The latest window the job scored for ``endpoint_id``."""
    windows = [w for w in report.windows if w.endpoint_id == endpoint_id]
    check(bool(windows), f"the monitoring job scored no window of endpoint {endpoint_id}")
    return max(windows, key=lambda w: w.window_start)


def drift_table(window: WindowResult) -> Table:
    """One row per feature: each metric's value and the status."""
    table = Table(title=f"drift of endpoint {window.endpoint_id}, window {window.window_start}")
    table.add_column("feature")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    table.add_column("status")
    for feature in window.features:
        style = STYLE[feature.status]
        table.add_row(
            feature.feature,
            *(f"{feature.metrics.get(m, float('nan')):.3f}" for m in METRICS),
            f"[{style}]{feature.status.value}[/]",
        )
    return table


def drifted_features(window: WindowResult) -> set[str]:
    return {f.feature for f in window.features if f.status is DriftStatus.DRIFT_DETECTED}


async def run_check(
    console: Console, job: MonitoringJob, endpoint_id: str, expected_drift: set[str]
) -> tuple[JobReport, WindowResult]:
    """Run the job once; check that exactly ``expected_drift`` drifted and alerted."""
    report = await job.run()
    window = window_of(report, endpoint_id)
    console.print(
        f"read {report.records} records; scored {len(report.windows)} window(s); "
        f"{window.requests} requests in the latest window"
    )
    console.print(drift_table(window))
    drifted = drifted_features(window)
    check(
        drifted == expected_drift,
        f"expected drift on {sorted(expected_drift) or 'no feature'}, got {sorted(drifted)}",
    )
    alerted = [a for a in report.alerts if a.endpoint_id == endpoint_id]
    if expected_drift:
        check(len(alerted) == 1, f"expected one drift alert, got {len(alerted)}: {alerted}")
        console.print(f"[bold red]ALERT[/] {alerted[0].message}")
        console.print(f"  drifted features: {', '.join(sorted(drifted))}")
    else:
        check(not alerted, f"no alert expected without drift, got {alerted}")
    return report, window


def drift_report(report: JobReport) -> list[Path]:
    """The plots (PNG) and HTML report the job wrote; there must be a plot."""
    files = [p for p in report.outputs if p.suffix in (".png", ".html") and p.is_file()]
    check(
        any(p.suffix == ".png" for p in files),
        f"the monitoring job wrote no plot (outputs: {report.outputs})",
    )
    return files
