"""The catalog: feature sets and vectors saved as JSON, loaded by name or URI.

A SQLAlchemy table on ``get_config().dbpath`` (created on first use), behind a
small interface (:class:`Catalog`) that can move into the run database later.
URIs: ``store://feature-sets/{project}/{name}:{tag}`` and
``store://feature-vectors/{project}/{name}:{tag}``.

>>> parse_uri("store://feature-sets/shop/orders:v1", "feature-sets")
('shop', 'orders', 'v1')
>>> parse_uri("orders", "feature-sets")
('default', 'orders', 'latest')
"""

from __future__ import annotations

import builtins
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from servegraph.config import get_config
from servegraph.errors import DataItemError, FeatureSetNotFoundError, FeatureStoreError
from servegraph.storage.engines import shared_engine
from servegraph.storage.uri import is_store_uri, make_store_uri, parse_store_uri

DEFAULT_PROJECT = "default"
DEFAULT_TAG = "latest"
KINDS = ("feature-sets", "feature-vectors")

_metadata = sa.MetaData()
_objects = sa.Table(
    "featurestore_objects",
    _metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("project", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("tag", sa.String(128), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("updated", sa.DateTime, nullable=False),
)


def _create_tables(engine: sa.Engine) -> None:
    _metadata.create_all(engine)


def make_uri(kind: str, project: str, name: str, tag: str = DEFAULT_TAG) -> str:
    return make_store_uri(kind, project, name, tag)


def parse_uri(name_or_uri: str, kind: str, project: str | None = None) -> tuple[str, str, str]:
    """(project, name, tag) of a name (``name`` or ``name:tag``) or a ``store://`` URI."""
    if is_store_uri(name_or_uri):
        try:
            ref = parse_store_uri(name_or_uri, (kind,))
        except DataItemError as exc:
            raise FeatureStoreError(str(exc)) from exc
        return ref.project, ref.key, ref.tag
    name, _, tag = name_or_uri.partition(":")
    if not name:
        raise FeatureStoreError(f"An empty name in {name_or_uri!r}.")
    return project or DEFAULT_PROJECT, name, tag or DEFAULT_TAG


class Catalog:
    """Feature-store objects in SQL: ``Catalog().save("feature-sets", "p", "n", "v1", {...})``."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or get_config().dbpath
        self._engine = shared_engine(self.url, _create_tables)

    def save(self, kind: str, project: str, name: str, tag: str, body: dict[str, Any]) -> str:
        """Insert or replace an object; return its URI."""
        row = {"kind": kind, "project": project, "name": name, "tag": tag}
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.delete(_objects).filter_by(**row))
                conn.execute(
                    sa.insert(_objects).values(
                        **row, body=json.dumps(body), updated=datetime.now(UTC).replace(tzinfo=None)
                    )
                )
        except SQLAlchemyError as exc:
            raise FeatureStoreError(
                f"saving {make_uri(kind, project, name, tag)} failed: {exc}"
            ) from exc
        return make_uri(kind, project, name, tag)

    def load(self, kind: str, project: str, name: str, tag: str) -> dict[str, Any]:
        """The saved body; FeatureSetNotFoundError naming the URI when absent."""
        query = sa.select(_objects.c.body).filter_by(kind=kind, project=project, name=name, tag=tag)
        with self._engine.connect() as conn:
            body = conn.execute(query).scalar_one_or_none()
        if body is None:
            raise FeatureSetNotFoundError(
                f"{make_uri(kind, project, name, tag)} is not in the catalog"
            )
        loaded: dict[str, Any] = json.loads(body)
        return loaded

    def list(self, kind: str, project: str | None = None) -> list[tuple[str, str, str]]:
        """(project, name, tag) of every object of a kind."""
        query = sa.select(_objects.c.project, _objects.c.name, _objects.c.tag).filter_by(kind=kind)
        if project is not None:
            query = query.filter_by(project=project)
        with self._engine.connect() as conn:
            return [(p, n, t) for p, n, t in conn.execute(query)]

    def entries(self, kind: str, project: str | None = None) -> builtins.list[dict[str, Any]]:
        """Every object of a kind with its body and when it was last saved, by name."""
        query = sa.select(_objects).filter_by(kind=kind).order_by(_objects.c.name, _objects.c.tag)
        if project is not None:
            query = query.filter_by(project=project)
        with self._engine.connect() as conn:
            return [
                {
                    "project": r.project,
                    "name": r.name,
                    "tag": r.tag,
                    "updated": r.updated.replace(tzinfo=UTC).isoformat(),
                    "body": json.loads(r.body),
                }
                for r in conn.execute(query)
            ]

    def delete(self, kind: str, project: str, name: str, tag: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(_objects).filter_by(kind=kind, project=project, name=name, tag=tag)
            )
