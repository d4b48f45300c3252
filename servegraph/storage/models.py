"""Tables of the run database (SQLAlchemy 2 declarative models).

The schema itself is created and upgraded by the Alembic migrations in
``servegraph/storage/migrations``; these classes describe it for queries.
Documents (a run record, an artifact spec, a function spec) are kept whole in a
JSON ``body`` column next to the few fields that are filtered on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the run database tables."""


class RunRow(Base):
    """One run (or one hyper-parameter child, ``iteration > 0``)."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("project", "uid", "iteration", name="uq_runs_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(255), index=True)
    uid: Mapped[str] = mapped_column(String(64), index=True)
    iteration: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(32))
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class ArtifactRow(Base):
    """One version of an artifact, keyed by its content hash."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("project", "key", "hash", name="uq_artifacts_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(255), index=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    producer: Mapped[str] = mapped_column(String(64))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class FunctionRow(Base):
    """One version of a function, keyed by the hash of its spec and code."""

    __tablename__ = "functions"
    __table_args__ = (UniqueConstraint("project", "name", "hash", name="uq_functions_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class TagRow(Base):
    """A movable name (``latest``, ``v1``) pointing at one hash of an artifact or function."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("kind", "project", "name", "tag", name="uq_tags_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    project: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    tag: Mapped[str] = mapped_column(String(255))
    hash: Mapped[str] = mapped_column(String(64))


class ProjectRow(Base):
    """A project and its spec."""

    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class ScheduleRow(Base):
    """A cron schedule of a function run or a workflow in a project."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("project", "name", name="uq_schedules_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    cron: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class LogRow(Base):
    """A chunk of a run's log (chunks are appended in ``id`` order)."""

    __tablename__ = "logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(255))
    uid: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)


__all__ = [
    "ArtifactRow",
    "Base",
    "FunctionRow",
    "LogRow",
    "ProjectRow",
    "RunRow",
    "ScheduleRow",
    "TagRow",
]
