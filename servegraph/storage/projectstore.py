"""Projects and cron schedules in the run database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from servegraph.errors import NotFoundInStoreError
from servegraph.storage.dbbase import StoreBase, now, retry_on_conflict
from servegraph.storage.models import ProjectRow, ScheduleRow

_LAST_RUN = "_last_run"  # kept in the schedule's JSON body (no schema change)


class ProjectStore(StoreBase):
    """``store_project`` / ``get_project`` / ``list_projects`` and schedules."""

    @retry_on_conflict
    def store_project(self, name: str, project: dict[str, Any]) -> None:
        """Insert or replace a project document."""
        with self.session() as s:
            row = s.get(ProjectRow, name)
            if row is None:
                s.add(ProjectRow(name=name, created=now(), body=project))
            else:
                row.body = project

    def get_project(self, name: str) -> dict[str, Any]:
        """The project document; NotFoundInStoreError if unknown."""
        with self.session() as s:
            row = s.get(ProjectRow, name)
            if row is None:
                raise NotFoundInStoreError(f"project {name!r} not found")
            return dict(row.body)

    def list_projects(self) -> list[dict[str, Any]]:
        """Every project document, by name."""
        with self.session() as s:
            return [dict(r.body) for r in s.scalars(select(ProjectRow).order_by(ProjectRow.name))]

    def del_project(self, name: str) -> None:
        """Delete a project and its schedules (runs and artifacts stay)."""
        with self.session() as s:
            s.execute(delete(ProjectRow).where(ProjectRow.name == name))
            s.execute(delete(ScheduleRow).where(ScheduleRow.project == name))

    @retry_on_conflict
    def store_schedule(
        self, project: str, name: str, cron: str, kind: str, scheduled: dict[str, Any]
    ) -> None:
        """Insert or replace the schedule ``name`` of ``project`` (cron already validated)."""
        with self.session() as s:
            row = s.scalar(
                select(ScheduleRow).where(ScheduleRow.project == project, ScheduleRow.name == name)
            )
            if row is None:
                row = ScheduleRow(project=project, name=name, created=now(), body={})
                s.add(row)
            last = {_LAST_RUN: row.body[_LAST_RUN]} if _LAST_RUN in row.body else {}
            row.cron, row.kind, row.body = cron, kind, {**scheduled, **last}

    def set_schedule_last_run(self, project: str, name: str, when: datetime, uid: str) -> None:
        """Record that the schedule ``name`` of ``project`` fired at ``when`` (run ``uid``)."""
        with self.session() as s:
            row = s.scalar(
                select(ScheduleRow).where(ScheduleRow.project == project, ScheduleRow.name == name)
            )
            if row is None:
                raise NotFoundInStoreError(f"schedule {name!r} not found in project {project!r}")
            row.body = {**row.body, _LAST_RUN: {"time": when.isoformat(), "uid": uid}}

    def get_schedule(self, project: str, name: str) -> dict[str, Any]:
        """One schedule as ``{"project", "name", "cron", "kind", "scheduled_object"}``."""
        with self.session() as s:
            row = s.scalar(
                select(ScheduleRow).where(ScheduleRow.project == project, ScheduleRow.name == name)
            )
            if row is None:
                raise NotFoundInStoreError(f"schedule {name!r} not found in project {project!r}")
            return _schedule(row)

    def list_schedules(self, project: str | None = None) -> list[dict[str, Any]]:
        """Schedules (of one project, or all), by name."""
        query = select(ScheduleRow).order_by(ScheduleRow.project, ScheduleRow.name)
        if project is not None:
            query = query.where(ScheduleRow.project == project)
        with self.session() as s:
            return [_schedule(r) for r in s.scalars(query)]

    def del_schedule(self, project: str, name: str) -> None:
        """Delete a schedule."""
        with self.session() as s:
            s.execute(
                delete(ScheduleRow).where(ScheduleRow.project == project, ScheduleRow.name == name)
            )


def _schedule(row: ScheduleRow) -> dict[str, Any]:
    body = dict(row.body)
    last = body.pop(_LAST_RUN, None) or {}
    created = row.created if row.created.tzinfo else row.created.replace(tzinfo=UTC)
    return {
        "project": row.project,
        "name": row.name,
        "cron": row.cron,
        "kind": row.kind,
        "scheduled_object": body,
        "created": created.isoformat(),
        "last_run": last.get("time"),
        "last_run_uid": last.get("uid"),
    }
