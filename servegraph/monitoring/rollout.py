"""The retraining policy's last step: a passing retrained model reaches the serving endpoints.

After a retraining run completes, :class:`RolloutPolicy` finds the model
version it logged, checks its metrics (computed by the training code on a
holdout set and logged with ``ctx.log_model(..., metrics=...)``) against
``min_metric``, tags it, and per ``promote``:

- ``manual``: tags it ``candidate``; a person promotes it (``servegraph promote``);
- ``canary``: asks every serving endpoint of the model to load it as a canary
  taking ``canary_weight`` percent of the traffic (the server's canary policy
  then promotes or rolls it back after ``min_requests`` requests);
- ``auto``: asks them to load it as the new default, and tags it ``tag``
  (``production``).

The endpoints' URLs come from endpoint registration: ``servegraph serve``
registers each model endpoint with its server URL (``SERVEGRAPH_SERVER_URL``,
default ``http://127.0.0.1:PORT``); a ``SERVEGRAPH_TOKEN`` in the job's environment is
sent as the bearer token of servers started with ``--token``. Every step is a row of
``monitoring_rollouts`` (:func:`list_rollouts`, shown by ``servegraph monitor
--show``) and an event in the model version's history (lineage shows it).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import sqlalchemy as sa

from servegraph.errors import MonitoringError, ServegraphError
from servegraph.monitoring import db
from servegraph.monitoring.endpoints import ModelEndpoint

logger = logging.getLogger(__name__)
PROMOTE = ("manual", "canary", "auto")

urls_table = sa.Table(
    "monitoring_endpoint_urls",
    db.metadata,
    sa.Column("endpoint_id", sa.String(255), primary_key=True),
    sa.Column("url", sa.String(1024), primary_key=True),
    sa.Column("project", sa.String(255), nullable=False, default=""),
    sa.Column("model_name", sa.String(255), nullable=False, default=""),
    sa.Column("updated", sa.String(32), nullable=False),
)
rollouts_table = sa.Table(
    "monitoring_rollouts",
    db.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.String(32), nullable=False),
    sa.Column("project", sa.String(255), nullable=False, default=""),
    sa.Column("endpoint_id", sa.String(255), nullable=False, default=""),
    sa.Column("run_id", sa.String(255), nullable=False, default=""),
    sa.Column("model_uri", sa.Text, nullable=False, default=""),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def register_url(endpoint: dict[str, Any], url: str, dbpath: str | None = None) -> None:
    """Remember that ``url`` serves the model endpoint (called at server start)."""
    key = (urls_table.c.endpoint_id == endpoint["id"]) & (urls_table.c.url == url)
    with db.begin(dbpath) as conn:
        conn.execute(urls_table.delete().where(key))
        conn.execute(
            urls_table.insert().values(
                endpoint_id=endpoint["id"],
                url=url,
                project=endpoint.get("project", ""),
                model_name=endpoint.get("model_name", ""),
                updated=_now(),
            )
        )


def serving_urls(project: str, model_name: str, dbpath: str | None = None) -> list[str]:
    """The server URLs registered for a model name of a project."""
    query = sa.select(urls_table.c.url).where(
        (urls_table.c.project == project) & (urls_table.c.model_name == model_name)
    )
    with db.begin(dbpath) as conn:
        return sorted({r.url for r in conn.execute(query)})


def record_rollout(
    action: str,
    *,
    project: str = "",
    endpoint_id: str = "",
    run_id: str = "",
    model_uri: str = "",
    detail: str = "",
    dbpath: str | None = None,
) -> dict[str, Any]:
    """Store one rollout step; returns it."""
    row = {
        "time": _now(), "project": project, "endpoint_id": endpoint_id, "run_id": run_id,
        "model_uri": model_uri, "action": action, "detail": detail,
    }  # fmt: skip
    with db.begin(dbpath) as conn:
        conn.execute(rollouts_table.insert().values(**row))
    return row


def list_rollouts(project: str | None = None, dbpath: str | None = None) -> list[dict[str, Any]]:
    """Rollout steps, oldest first (for ``monitor --show`` and the dashboard)."""
    query = sa.select(rollouts_table).order_by(rollouts_table.c.id)
    if project is not None:
        query = query.where(rollouts_table.c.project == project)
    with db.begin(dbpath) as conn:
        return [{k: v for k, v in r._asdict().items() if k != "id"} for r in conn.execute(query)]


@dataclass
class RolloutPolicy:
    """What happens to a retrained model (see the module docstring)."""

    promote: str = "manual"
    canary_weight: float = 10.0
    min_requests: int = 100
    latency_tolerance: float = 1.5
    min_metric: dict[str, float] = field(default_factory=dict)
    tag: str = "production"
    dbpath: str | None = None

    def __post_init__(self) -> None:
        if self.promote not in PROMOTE:
            raise MonitoringError(
                f"The 'promote' setting of retrain must be one of {', '.join(PROMOTE)}. "
                f"Got {self.promote!r} instead."
            )
        if not isinstance(self.min_metric, dict) or any(
            not isinstance(v, int | float) for v in self.min_metric.values()
        ):
            raise MonitoringError(
                f"The 'min_metric' setting of retrain must map metric names to numbers. "
                f"Got {self.min_metric!r} instead."
            )

    async def apply(self, endpoint: ModelEndpoint, run_id: str) -> list[dict[str, Any]]:
        """Check, register and roll out the model the run ``run_id`` logged; returns the steps."""
        from servegraph.functions.registry import record_model_event, tag_model
        from servegraph.storage.rundb import get_run_db

        steps: list[dict[str, Any]] = []

        def step(action: str, uri: str = "", detail: str = "") -> None:
            steps.append(
                record_rollout(
                    action,
                    project=endpoint.project,
                    endpoint_id=endpoint.id,
                    run_id=run_id,
                    model_uri=uri,
                    detail=detail,
                    dbpath=self.dbpath,
                )
            )
            if uri:
                record_model_event(uri, action, run=run_id, detail=detail)

        run = get_run_db().find_run(run_id)
        state = run.get("status", {}).get("state", "")
        models = [a for a in run.get("status", {}).get("artifacts") or [] if a["kind"] == "model"]
        if state != "completed" or not models:
            step("retrain failed", detail=f"run state {state!r}, {len(models)} models logged")
            return steps
        model = models[-1]
        meta = model["metadata"]
        uri = f"store://models/{meta['project']}/{meta['key']}@{meta['hash']}"
        metrics = model.get("spec", {}).get("metrics") or {}
        failing = {
            name: metrics.get(name)
            for name, minimum in self.min_metric.items()
            if not isinstance(metrics.get(name), int | float) or metrics[name] < minimum
        }
        if failing:
            step("rejected", uri, f"holdout metrics {failing} below {self.min_metric}")
            return steps
        step("registered", uri, f"metrics {json.dumps(metrics, default=str)}")
        tag = str(meta.get("tag") or "")
        version = tag if tag and tag != "latest" else meta["hash"][:12]
        if self.promote == "manual":
            tag_model(uri, "candidate", by="monitoring", reason=f"retrain run {run_id}")
            step("awaiting promotion", uri, "tagged candidate; promote with servegraph promote")
            return steps
        parameters: dict[str, Any] = {"model_path": uri, "version": version}
        if self.promote == "canary":
            parameters.update(
                canary_weight=self.canary_weight,
                min_requests=self.min_requests,
                latency_tolerance=self.latency_tolerance,
            )
        urls = serving_urls(endpoint.project, endpoint.model_name, self.dbpath)
        if not urls:
            step("not loaded", uri, "no serving URL registered for this model")
        for url in urls:
            try:
                await _load(url, endpoint.model_name, parameters)
            except ServegraphError as exc:
                step("load failed", uri, f"{url}: {exc}")
                continue
            how = f"canary {self.canary_weight}%" if self.promote == "canary" else "default"
            step("loaded", uri, f"{url} as {how} version {version}")
        if self.promote == "auto" and any(s["action"] == "loaded" for s in steps):
            tag_model(uri, self.tag, by="monitoring", reason=f"retrain run {run_id}")
            step("promoted", uri, f"tagged {self.tag}")
        return steps


async def _load(url: str, model: str, parameters: dict[str, Any]) -> None:
    """POST the V2 repository load request to one server."""
    target = f"{url.rstrip('/')}/v2/repository/models/{model}/load"
    token = os.environ.get("SERVEGRAPH_TOKEN")  # servers started with --token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
            async with session.post(
                target, json={"parameters": parameters}, headers=headers
            ) as resp:
                if resp.status != 200:
                    raise MonitoringError(f"HTTP {resp.status}: {await resp.text()}")
    except aiohttp.ClientError as exc:
        raise MonitoringError(f"cannot reach {target}: {exc}") from exc


__all__ = ["RolloutPolicy", "list_rollouts", "record_rollout", "register_url", "serving_urls"]
