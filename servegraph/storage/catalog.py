"""Versioned artifacts and functions: one row per content hash, movable tags."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from servegraph.errors import NotFoundInStoreError
from servegraph.storage.dbbase import StoreBase, now, retry_on_conflict
from servegraph.storage.models import ArtifactRow, FunctionRow, TagRow

LATEST = "latest"


def _set_tag(s: Session, kind: str, project: str, name: str, tag: str, hash_: str) -> None:
    row = s.scalar(
        select(TagRow).where(
            TagRow.kind == kind, TagRow.project == project, TagRow.name == name, TagRow.tag == tag
        )
    )
    if row is None:
        s.add(TagRow(kind=kind, project=project, name=name, tag=tag, hash=hash_))
    else:
        row.hash = hash_


def _resolve(s: Session, kind: str, project: str, name: str, tag: str) -> str | None:
    return s.scalar(
        select(TagRow.hash).where(
            TagRow.kind == kind, TagRow.project == project, TagRow.name == name, TagRow.tag == tag
        )
    )


def _tags_of(s: Session, kind: str, project: str, name: str, hash_: str) -> list[str]:
    return sorted(
        s.scalars(
            select(TagRow.tag).where(
                TagRow.kind == kind,
                TagRow.project == project,
                TagRow.name == name,
                TagRow.hash == hash_,
            )
        )
    )


_Version = TypeVar("_Version", ArtifactRow, FunctionRow)


def _find_version(
    s: Session, model: type[_Version], project: str, name: str, hash_: str
) -> _Version | None:
    """The row of one version (``name`` is the artifact key or the function name)."""
    name_column = ArtifactRow.key if model is ArtifactRow else FunctionRow.name
    return s.scalar(
        select(model).where(model.project == project, name_column == name, model.hash == hash_)
    )


def _read_version(
    s: Session,
    kind: str,
    model: type[_Version],
    project: str,
    name: str,
    tag: str,
    hash_: str | None,
) -> _Version:
    """The row of the version ``hash_`` or, without it, the one ``tag`` points at."""
    hash_ = hash_ or _resolve(s, kind, project, name, tag)
    row = _find_version(s, model, project, name, hash_) if hash_ else None
    if row is None:
        raise NotFoundInStoreError(
            f"{kind} {name!r} with tag {tag!r} not found in project {project!r}"
        )
    return row


class CatalogStore(StoreBase):
    """Artifacts and functions, each version addressed by hash or by tag."""

    @retry_on_conflict
    def store_artifact(
        self,
        key: str,
        artifact: dict[str, Any],
        hash_: str,
        project: str = "",
        tags: tuple[str, ...] = (LATEST,),
        producer: str = "",
    ) -> None:
        """Store one artifact version and point ``tags`` (``latest`` by default) at it."""
        with self.session() as s:
            row = _find_version(s, ArtifactRow, project, key, hash_)
            if row is None:
                row = ArtifactRow(project=project, key=key, hash=hash_)
                s.add(row)
            row.kind = str(artifact.get("kind", "artifact"))
            row.producer = producer
            row.updated = now()
            row.body = artifact
            for tag in tags:
                _set_tag(s, "artifact", project, key, tag, hash_)

    def read_artifact(
        self, key: str, tag: str = LATEST, project: str = "", hash_: str | None = None
    ) -> dict[str, Any]:
        """One artifact version by tag (or by hash); NotFoundInStoreError if unknown."""
        with self.session() as s:
            row = _read_version(s, "artifact", ArtifactRow, project, key, tag, hash_)
            body = dict(row.body)
            tags = _tags_of(s, "artifact", project, key, row.hash)
            body.setdefault("metadata", {})["tags"] = tags
            return body

    def list_artifacts(
        self,
        project: str | None = None,
        key: str | None = None,
        kind: str | None = None,
        tag: str | None = None,
        producer: str | None = None,
    ) -> list[dict[str, Any]]:
        """Artifact versions, newest first; ``tag`` keeps only the tagged versions."""
        query = select(ArtifactRow).order_by(ArtifactRow.updated.desc(), ArtifactRow.id.desc())
        if project is not None:
            query = query.where(ArtifactRow.project == project)
        if key:
            query = query.where(ArtifactRow.key == key)
        if kind:
            query = query.where(ArtifactRow.kind == kind)
        if producer:
            query = query.where(ArtifactRow.producer == producer)
        out = []
        with self.session() as s:
            for row in s.scalars(query):
                tags = _tags_of(s, "artifact", row.project, row.key, row.hash)
                if tag and tag not in tags:
                    continue
                body = dict(row.body)
                body.setdefault("metadata", {})["tags"] = tags
                out.append(body)
        return out

    @retry_on_conflict
    def update_artifact_version(
        self,
        key: str,
        project: str,
        hash_: str,
        tag: str = "",
        event: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Point ``tag`` (unless empty) at the version ``hash_`` of an artifact; append
        ``event`` to its ``status.events`` (the version's history). Returns its record."""
        with self.session() as s:
            row = _find_version(s, ArtifactRow, project, key, hash_)
            if row is None:
                raise NotFoundInStoreError(
                    f"artifact {key!r} has no version {hash_!r} in project {project!r}"
                )
            if tag:
                _set_tag(s, "artifact", project, key, tag, hash_)
            if event is not None:
                body = dict(row.body)
                status = dict(body.get("status") or {})
                status["events"] = [*(status.get("events") or []), event]
                body["status"] = status
                row.body = body
            body = dict(row.body)
            body.setdefault("metadata", {})["tags"] = _tags_of(s, "artifact", project, key, hash_)
            return body

    @retry_on_conflict
    def store_function(
        self,
        function: dict[str, Any],
        name: str,
        hash_: str,
        project: str = "",
        tags: tuple[str, ...] = (LATEST,),
    ) -> None:
        """Store one function version (by hash) and point ``tags`` at it."""
        with self.session() as s:
            row = _find_version(s, FunctionRow, project, name, hash_)
            if row is None:
                row = FunctionRow(project=project, name=name, hash=hash_)
                s.add(row)
            row.kind = str(function.get("kind", ""))
            row.updated = now()
            row.body = function
            for tag in tags:
                _set_tag(s, "function", project, name, tag, hash_)

    def get_function(
        self, name: str, project: str = "", tag: str = LATEST, hash_: str | None = None
    ) -> dict[str, Any]:
        """One function version by tag (or hash); NotFoundInStoreError if unknown."""
        with self.session() as s:
            row = _read_version(s, "function", FunctionRow, project, name, tag, hash_)
            body = dict(row.body)
            body.setdefault("metadata", {})["hash"] = row.hash
            return body

    def list_functions(
        self, project: str | None = None, name: str | None = None, all_versions: bool = False
    ) -> list[dict[str, Any]]:
        """Functions, newest first: the ``latest`` version of each (or every version)."""
        query = select(FunctionRow).order_by(FunctionRow.updated.desc(), FunctionRow.id.desc())
        if project is not None:
            query = query.where(FunctionRow.project == project)
        if name:
            query = query.where(FunctionRow.name == name)
        out = []
        with self.session() as s:
            for row in s.scalars(query):
                tags = _tags_of(s, "function", row.project, row.name, row.hash)
                if not all_versions and LATEST not in tags:
                    continue
                body = dict(row.body)
                body.setdefault("metadata", {}).update(hash=row.hash, tags=tags)
                out.append(body)
        return out

    def del_artifacts(self, project: str, key: str) -> None:
        """Delete every version and tag of an artifact."""
        with self.session() as s:
            s.execute(
                delete(ArtifactRow).where(ArtifactRow.project == project, ArtifactRow.key == key)
            )
            s.execute(
                delete(TagRow).where(
                    TagRow.kind == "artifact", TagRow.project == project, TagRow.name == key
                )
            )
