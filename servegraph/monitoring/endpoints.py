"""The model endpoint registry: what each endpoint serves and what it is compared with.

An endpoint is registered once (by the serving function's deploy step, a
training pipeline, or by hand) with its feature names and the reference
statistics of its training data (the ``compute_stats`` format). The statistics
are computed once, at registration, and only read by the monitoring job.

>>> import pandas as pd
>>> registry = EndpointRegistry()                                 # doctest: +SKIP
>>> registry.register(ModelEndpoint(id="churn.v1", function="churn-serving",
...     model_name="v1", feature_names=["age", "spend"]),
...     reference=pd.DataFrame({"age": [30, 40], "spend": [1.0, 2.5]}))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from servegraph.errors import MonitoringError, NotFoundInStoreError
from servegraph.featurestore.stats import compute_stats
from servegraph.monitoring import db

endpoints_table = sa.Table(
    "monitoring_endpoints",
    db.metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("project", sa.String(255), nullable=False, default=""),
    sa.Column("function", sa.String(255), nullable=False, default=""),
    sa.Column("model_name", sa.String(255), nullable=False, default=""),
    sa.Column("model_version", sa.String(255), nullable=False, default=""),
    sa.Column("model_uri", sa.Text, nullable=False, default=""),
    sa.Column("feature_names", sa.JSON, nullable=False),
    sa.Column("reference_stats", sa.JSON, nullable=False),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("updated", sa.String(32), nullable=False),
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class ModelEndpoint:
    """One served model: identity, features, and the reference statistics."""

    id: str
    project: str = ""
    function: str = ""
    model_name: str = ""
    model_version: str = ""
    model_uri: str = ""
    feature_names: list[str] = field(default_factory=list)
    reference_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: str = ""
    updated: str = ""


def reference_from_model(
    model_uri: str, dbpath: str | None = None
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Feature names and reference statistics of a model artifact in the run database."""
    from servegraph.storage.rundb import get_run_db
    from servegraph.storage.uri import ARTIFACT_KINDS, parse_store_uri

    ref = parse_store_uri(model_uri, ARTIFACT_KINDS)
    artifact = get_run_db(dbpath).read_artifact(
        ref.key, tag=ref.tag, project=ref.project, hash_=ref.uid or None
    )
    spec = artifact.get("spec", {})
    stats = spec.get("feature_stats") or {}
    if not stats:
        raise MonitoringError(
            f"model {model_uri!r} has no feature_stats: log it with a training_set to monitor it"
        )
    names = [str(i["name"]) for i in spec.get("inputs") or []] or list(stats)
    return names, dict(stats)


def reference_from_feature_set(
    name_or_uri: str, project: str | None = None
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Feature names and statistics of a feature set (computed when it was ingested)."""
    try:
        get_feature_set = importlib.import_module("servegraph.featurestore").get_feature_set
    except (ImportError, AttributeError) as exc:
        raise MonitoringError(f"the feature store is not available: {exc}") from exc
    stats = dict(get_feature_set(name_or_uri, project=project).stats or {})
    if not stats:
        raise MonitoringError(
            f"feature set {name_or_uri!r} has no statistics: ingest data into it first"
        )
    return list(stats), stats


class EndpointRegistry:
    """Model endpoints stored in the monitoring tables of ``dbpath`` (default the run DB)."""

    def __init__(self, dbpath: str | None = None) -> None:
        self.dbpath = dbpath

    def register(
        self,
        endpoint: ModelEndpoint,
        reference: pd.DataFrame | None = None,
        feature_set: str | None = None,
    ) -> ModelEndpoint:
        """Insert or update ``endpoint``; ``reference`` data is summarised here, once.

        ``feature_set`` (a name or URI) takes the statistics of a feature set.
        Without ``reference`` or statistics, a ``store://models/...`` model URI
        supplies them: the model's ``feature_stats`` (its training set's
        statistics, logged with ``ctx.log_model(..., training_set=df)``).
        Registering again keeps the stored reference statistics unless new
        ones (or new reference data) are given.
        """
        if not endpoint.id:
            raise MonitoringError("The 'id' of a ModelEndpoint must be a non-empty string.")
        if reference is not None:
            columns = endpoint.feature_names or [str(c) for c in reference.columns]
            missing = [c for c in columns if c not in reference.columns]
            if missing:
                raise MonitoringError(
                    f"The 'reference' data of endpoint {endpoint.id!r} lacks the features "
                    f"{missing}."
                )
            endpoint.feature_names = list(columns)
            endpoint.reference_stats = compute_stats(reference[columns])
        elif feature_set is not None:
            names, stats = reference_from_feature_set(feature_set, endpoint.project or None)
            endpoint.feature_names = endpoint.feature_names or names
            wanted = endpoint.feature_names
            endpoint.reference_stats = {n: stats[n] for n in wanted if n in stats}
        try:
            existing = self.get(endpoint.id)
        except NotFoundInStoreError:
            existing = None
        known = endpoint.reference_stats or (existing.reference_stats if existing else {})
        if not known and endpoint.model_uri.startswith("store://"):
            names, stats = reference_from_model(endpoint.model_uri, self.dbpath)
            endpoint.feature_names = endpoint.feature_names or names
            wanted = endpoint.feature_names
            endpoint.reference_stats = {n: stats[n] for n in wanted if n in stats}
        now = _now()
        endpoint.updated = now
        if existing is not None:
            endpoint.created = existing.created
            endpoint.reference_stats = endpoint.reference_stats or existing.reference_stats
            endpoint.feature_names = endpoint.feature_names or existing.feature_names
        else:
            endpoint.created = now
        row = asdict(endpoint)
        with db.begin(self.dbpath) as conn:
            if existing is None:
                conn.execute(endpoints_table.insert().values(**row))
            else:
                conn.execute(
                    endpoints_table.update()
                    .where(endpoints_table.c.id == endpoint.id)
                    .values(**row)
                )
        return endpoint

    def get(self, endpoint_id: str) -> ModelEndpoint:
        """The endpoint ``endpoint_id``; NotFoundInStoreError if unknown."""
        with db.begin(self.dbpath) as conn:
            row = conn.execute(
                sa.select(endpoints_table).where(endpoints_table.c.id == endpoint_id)
            ).first()
        if row is None:
            raise NotFoundInStoreError(f"model endpoint {endpoint_id!r} is not registered")
        return ModelEndpoint(**row._asdict())

    def list(self, project: str | None = None) -> list[ModelEndpoint]:
        """Every endpoint, or those of ``project``, by id."""
        query = sa.select(endpoints_table).order_by(endpoints_table.c.id)
        if project is not None:
            query = query.where(endpoints_table.c.project == project)
        with db.begin(self.dbpath) as conn:
            return [ModelEndpoint(**row._asdict()) for row in conn.execute(query)]

    def delete(self, endpoint_id: str) -> None:
        """Forget an endpoint (its results stay)."""
        with db.begin(self.dbpath) as conn:
            conn.execute(endpoints_table.delete().where(endpoints_table.c.id == endpoint_id))
