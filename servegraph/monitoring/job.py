"""The monitoring job: stream records -> stored windows -> drift results, alerts, retraining.

One run:

1. reads the tracking stream as consumer group ``monitoring[-project][-endpoint]``
   from its committed offset, in batches; each batch is flattened, appended to
   the endpoint's window Parquet files, its windows marked dirty, then acked;
2. scores every dirty window against the endpoint's stored reference
   statistics (fitted once per run, never recomputed from data), saves window
   and feature results (replacing earlier ones) and clears the mark;
3. reads the labels stream (:mod:`.labels`): windows whose requests got labels
   are scored again, with their performance (:mod:`.performance`);
4. exports results to Parquet, draws the plots, evaluates alert rules and the
   retraining trigger on the new window results (the retraining data carries
   the labels in a ``label`` column).

A record that cannot be monitored (not a JSON object, no endpoint, outputs
that are not a list, features that are not numbers, an entry another producer
wrote) is counted in ``report.skipped`` and pushed, with the reason, to the
dead-letter stream (``dead_letter``, default ``<output_path>/dead-letter``);
the batch is acked all the same, so one bad record never stops monitoring.

A run killed anywhere loses nothing and counts nothing twice: unacked batches
are re-delivered and deduplicated by (offset, row) on load; dirty windows are
scored by the next run.

>>> report = MonitoringJob(window="10min").run_sync()     # doctest: +SKIP
>>> [(w.endpoint_id, w.status.value) for w in report.windows]   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from servegraph.config import get_config
from servegraph.errors import MonitoringError, NotFoundInStoreError, ServegraphError
from servegraph.monitoring.alerts.engine import Alert, AlertEngine
from servegraph.monitoring.datastore import WindowStore
from servegraph.monitoring.drift import DriftStatus, DriftThresholds, FittedReference, worst
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.monitoring.labels import (
    index_predictions,
    ingest_labels,
    labels_stream_url,
    windows_of,
    with_labels,
)
from servegraph.monitoring.performance import save_performance, window_performance
from servegraph.monitoring.records import flatten, problem
from servegraph.monitoring.results import ResultStore, WindowResult
from servegraph.monitoring.retrain import RetrainTrigger
from servegraph.monitoring.tracking import default_stream_url
from servegraph.streams import Record, Stream, get_stream

logger = logging.getLogger(__name__)


@dataclass
class JobReport:
    """What one run did."""

    records: int = 0
    batches: int = 0
    skipped: int = 0
    labels: int = 0
    windows: list[WindowResult] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    retrain_runs: list[str] = field(default_factory=list)
    rollouts: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)

    @property
    def drifted(self) -> list[WindowResult]:
        """Windows with drift detected."""
        return [w for w in self.windows if w.status is DriftStatus.DRIFT_DETECTED]


def _window(window: str) -> pd.Timedelta:
    try:
        delta = pd.Timedelta(window)
    except ValueError as exc:
        raise MonitoringError(
            f"The 'window' parameter of MonitoringJob must be a duration such as '1h' or "
            f"'10min'. Got {window!r} instead."
        ) from exc
    if delta <= pd.Timedelta(0):
        raise MonitoringError(
            f"The 'window' parameter of MonitoringJob must be positive. Got {window!r}."
        )
    return delta


class MonitoringJob:
    """Measure drift per endpoint and time window; see the module docstring.

    Parameters: ``stream_path`` (the tracking stream, default the trackers'),
    ``project`` / ``endpoint`` (only those endpoints; each filter has its own
    consumer group), ``window`` (duration of a time window), ``thresholds``,
    ``batch_size`` (records read per batch), ``dbpath``, ``output_path``
    (Parquet data, results and plots; default ``$SERVEGRAPH_HOME/monitoring``),
    ``alerts`` (an :class:`AlertEngine`), ``retrain`` (a :class:`RetrainTrigger`),
    ``plots`` (draw PNG/HTML reports), ``stream`` (an open stream, for tests),
    ``dead_letter`` (stream URL for records that cannot be monitored),
    ``labels_path`` (the labels stream, default the tracking stream's + ``-labels``;
    see :mod:`servegraph.monitoring.labels`).
    """

    def __init__(
        self,
        *,
        stream_path: str | None = None,
        project: str | None = None,
        endpoint: str | None = None,
        window: str = "1h",
        thresholds: DriftThresholds | None = None,
        batch_size: int = 1000,
        dbpath: str | None = None,
        output_path: str | Path | None = None,
        alerts: AlertEngine | None = None,
        retrain: RetrainTrigger | None = None,
        plots: bool = True,
        stream: Stream | None = None,
        results: ResultStore | None = None,
        dead_letter: str | None = None,
        labels_path: str | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise MonitoringError(
                f"The 'batch_size' parameter of MonitoringJob must be a positive int. "
                f"Got {batch_size!r} instead."
            )
        self.stream_path = stream_path or default_stream_url()
        self.labels_path = labels_path or labels_stream_url(self.stream_path)
        self.dbpath = dbpath
        self.project = project
        self.endpoint = endpoint
        self.window = _window(window)
        self.thresholds = thresholds or DriftThresholds()
        self.batch_size = batch_size
        self.output_path = Path(output_path or get_config().home / "monitoring")
        self.registry = EndpointRegistry(dbpath)
        self.results = results or ResultStore(dbpath)
        self.data = WindowStore(self.output_path / "data")
        self.dead_letter_url = dead_letter or str(self.output_path / "dead-letter")
        self.alerts = alerts
        self.retrain = retrain
        self.plots = plots
        self._stream = stream
        self._endpoints: dict[str, ModelEndpoint | None] = {}
        self._fitted: dict[str, FittedReference] = {}

    @property
    def group(self) -> str:
        """The consumer group of this job's filters."""
        parts = ["monitoring"]
        if self.project:
            parts.append(f"p.{quote(self.project, safe='')}")
        if self.endpoint:
            parts.append(f"e.{quote(self.endpoint, safe='')}")
        return "-".join(parts)

    def run_sync(self) -> JobReport:
        """Run once, blocking (for the CLI and schedulers)."""
        return asyncio.run(self.run())

    async def run(self) -> JobReport:
        """Read new records, score dirty windows, then report, alert and retrain."""
        report = JobReport()
        stream = self._stream or get_stream(self.stream_path)
        try:
            await self._ingest(stream, report)
        finally:
            if self._stream is None:
                await stream.close()
        await self._ingest_labels(report)
        for endpoint_id, start in self.results.dirty():
            if self._wanted(endpoint_id):
                report.windows.append(self._score(endpoint_id, start))
        await self._report(report)
        return report

    # -- 1. ingest ----------------------------------------------------------------

    def _endpoint(
        self, endpoint_id: str, record: dict[str, Any] | None = None
    ) -> ModelEndpoint | None:
        if endpoint_id not in self._endpoints:
            try:
                self._endpoints[endpoint_id] = self.registry.get(endpoint_id)
            except NotFoundInStoreError:
                project = str((record or {}).get("project") or "")
                if record is None or (self.project and project != self.project):
                    self._endpoints[endpoint_id] = None
                else:  # first sight of an endpoint nobody registered: list it, no reference
                    self._endpoints[endpoint_id] = self.registry.register(
                        ModelEndpoint(
                            id=endpoint_id,
                            project=project,
                            function=str(record.get("function") or ""),
                            model_name=str(record.get("model_name") or ""),
                            model_version=str(record.get("model_version") or ""),
                        )
                    )
        return self._endpoints[endpoint_id]

    def _wanted(self, endpoint_id: str, record: dict[str, Any] | None = None) -> bool:
        """Whether this job's filters select the endpoint (registering new ones)."""
        if self.endpoint and endpoint_id != self.endpoint:
            return False
        ep = self._endpoint(endpoint_id, record)
        return not self.project or (ep is not None and ep.project == self.project)

    async def _ingest(self, stream: Stream, report: JobReport) -> None:
        while batch := await stream.read(self.group, "job", count=self.batch_size):
            wanted: list[tuple[str, dict[str, Any]]] = []
            dead: list[tuple[Record, str]] = []
            for record in batch:
                reason = record.malformed or problem(record.data)
                if reason is not None:
                    dead.append((record, reason))
                elif self._wanted(record.data["endpoint_id"], record.data):
                    wanted.append((record.offset, record.data))
            try:
                dirty = self._store(wanted)
            except Exception:  # find the record(s) to blame, store the others
                dirty = []
                by_offset = {r.offset: r for r in batch}
                for item in wanted:
                    try:
                        dirty.extend(self._store([item]))
                    except Exception as exc:
                        dead.append((by_offset[item[0]], f"cannot be stored: {exc}"))
            self.results.mark_dirty(dirty)
            await self._dead_letter(dead)
            await stream.ack(self.group, [r.offset for r in batch])
            report.records += len(batch)
            report.skipped += len(dead)
            report.batches += 1

    def _store(self, wanted: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, pd.Timestamp]]:
        """Append records to their windows; return the windows touched."""
        names = {e: (ep.feature_names if ep else []) for e, ep in self._endpoints.items()}
        dirty = []
        for endpoint_id, df in flatten(wanted, names).items():
            starts = df["timestamp"].dt.floor(self.window)
            for start, part in df.groupby(starts, sort=True):
                self.data.append(endpoint_id, pd.Timestamp(start), part)
                index_predictions(part, pd.Timestamp(start), self.dbpath)
                dirty.append((endpoint_id, pd.Timestamp(start)))
        return dirty

    async def _ingest_labels(self, report: JobReport) -> None:
        """Store new labels and mark the windows of their requests for scoring again."""
        try:
            stream = get_stream(self.labels_path)
            try:
                request_ids = await ingest_labels(stream, self.dbpath, self.batch_size)
            finally:
                await stream.close()
            windows = windows_of(request_ids, self.dbpath)
        except ServegraphError as exc:  # labels are optional: drift still runs
            logger.error("labels of %s could not be read: %s", self.labels_path, exc)
            report.errors.append(f"labels could not be read: {exc}")
            return
        report.labels += len(request_ids)
        self.results.mark_dirty((e, pd.Timestamp(start)) for e, start in windows)

    async def _dead_letter(self, dead: list[tuple[Record, str]]) -> None:
        """Push skipped records with their reason; a failure leaves the batch unacked."""
        if not dead:
            return
        for record, reason in dead:
            logger.warning("monitoring skips record %s: %s", record.offset, reason)
        letters = [
            {"offset": r.offset, "group": self.group, "reason": reason, "data": r.data}
            for r, reason in dead
        ]
        stream = get_stream(self.dead_letter_url)
        try:
            await stream.push(letters)
        finally:
            await stream.close()

    # -- 2. score -----------------------------------------------------------------

    def _reference(self, endpoint_id: str) -> FittedReference | None:
        if endpoint_id not in self._fitted:
            ep = self._endpoint(endpoint_id)
            if ep is None or not ep.reference_stats:
                return None
            self._fitted[endpoint_id] = FittedReference(ep.reference_stats, self.thresholds)
        return self._fitted[endpoint_id]

    def _score(self, endpoint_id: str, start: pd.Timestamp) -> WindowResult:
        df = self.data.load(endpoint_id, start)
        per_request = df.drop_duplicates("_offset") if len(df) else df
        errors = int(per_request["error"].notna().sum()) if len(df) else 0
        latency = per_request["latency_ms"].dropna() if len(df) else pd.Series(dtype=float)
        rows = df[df["_row"] >= 0] if len(df) else df
        reference = self._reference(endpoint_id)
        features = reference.score(rows) if reference is not None and len(rows) else []
        result = WindowResult(
            endpoint_id=endpoint_id,
            window_start=start,
            window_end=start + self.window,
            requests=len(per_request),
            rows=len(rows),
            errors=errors,
            latency_p99=float(np.quantile(latency, 0.99)) if len(latency) else None,
            status=worst(f.status for f in features),
            drift_value=max((f.value for f in features), default=None),
            features=features,
        )
        performance, labelled = window_performance(with_labels(df, self.dbpath))
        if labelled:
            versions = [str(v) for v in df["model_version"].dropna().unique()]
            version = versions[-1] if versions else ""
            save_performance(endpoint_id, start, performance, labelled, version, self.dbpath)
            result.performance = performance
        self.results.save(result)
        return result

    # -- 3. report ----------------------------------------------------------------

    async def _report(self, report: JobReport) -> None:
        touched = sorted({w.endpoint_id for w in report.windows})
        for endpoint_id in touched:
            report.outputs.append(
                self.results.export_parquet(endpoint_id, self.output_path / "results")
            )
            if self.plots:
                from servegraph.monitoring.plots import write_report

                ep = self._endpoint(endpoint_id)
                last = max(w.window_start for w in report.windows if w.endpoint_id == endpoint_id)
                report.outputs.extend(
                    write_report(
                        endpoint_id,
                        self.results.features(endpoint_id),
                        ep.reference_stats if ep else {},
                        self.data.load(endpoint_id, last),
                        self.output_path / "reports" / quote(endpoint_id, safe=""),
                        model=" ".join(p for p in (ep.model_name, ep.model_version) if p)
                        if ep
                        else "",
                        thresholds=self.thresholds,
                        window=self.window,
                    )
                )
        ordered = sorted(report.windows, key=lambda w: (w.window_start, w.endpoint_id))
        for result in ordered:
            ep = self._endpoint(result.endpoint_id)
            project = ep.project if ep else ""
            if self.alerts is not None:
                report.alerts.extend(await self.alerts.evaluate(project, result))
            if self.retrain is not None and ep is not None:
                data = with_labels(self.data.load(ep.id, result.window_start), self.dbpath)
                try:
                    run = self.retrain.observe(ep, result, data)
                except ServegraphError as exc:  # reported; the results are already saved
                    logger.error("retraining of %s could not start: %s", ep.id, exc)
                    report.errors.append(f"retraining of {ep.id!r} could not start: {exc}")
                    continue
                if run is not None:
                    report.retrain_runs.append(run)
                    if self.retrain.policy is not None:
                        report.rollouts.extend(await self.retrain.policy.apply(ep, run))
