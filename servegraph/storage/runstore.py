"""Runs and their logs in the run database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select

from servegraph.errors import NotFoundInStoreError
from servegraph.storage.dbbase import StoreBase, now, retry_on_conflict
from servegraph.storage.models import LogRow, RunRow


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


class RunStore(StoreBase):
    """``store_run`` / ``read_run`` / ``list_runs`` / ``del_run`` and run logs."""

    @retry_on_conflict
    def store_run(self, run: dict[str, Any]) -> None:
        """Insert or replace a run record (keyed by project, uid and iteration)."""
        meta = run.get("metadata", {})
        status = run.get("status", {})
        project = meta.get("project") or ""
        uid, iteration = meta["uid"], int(meta.get("iteration") or 0)
        with self.session() as s:
            row = s.scalar(
                select(RunRow).where(
                    RunRow.project == project, RunRow.uid == uid, RunRow.iteration == iteration
                )
            )
            if row is None:
                row = RunRow(project=project, uid=uid, iteration=iteration)
                s.add(row)
            row.name = meta.get("name") or ""
            row.state = status.get("state") or "created"
            row.start_time = _parse_time(status.get("start_time"))
            row.updated = now()
            row.body = run

    def read_run(self, uid: str, project: str = "", iteration: int = 0) -> dict[str, Any]:
        """Return the run record; NotFoundInStoreError if there is none."""
        with self.session() as s:
            row = s.scalar(
                select(RunRow).where(
                    RunRow.project == project, RunRow.uid == uid, RunRow.iteration == iteration
                )
            )
            if row is None:
                raise NotFoundInStoreError(
                    f"run {uid!r} (iteration {iteration}) not found in project {project!r}"
                )
            return dict(row.body)

    def find_run(self, uid: str) -> dict[str, Any]:
        """Return the parent run ``uid`` from any project (for ``servegraph logs UID``).

        A unique prefix of at least 4 characters is enough (the CLI's tables print 8).
        """
        with self.session() as s:
            row = s.scalar(select(RunRow).where(RunRow.uid == uid, RunRow.iteration == 0))
            if row is None and len(uid) >= 4:
                found = s.scalars(
                    select(RunRow)
                    .where(RunRow.uid.startswith(uid, autoescape=True), RunRow.iteration == 0)
                    .limit(2)
                ).all()
                if len(found) > 1:
                    raise NotFoundInStoreError(
                        f"run {uid!r} is ambiguous: several run uids start with it"
                    )
                row = found[0] if found else None
            if row is None:
                raise NotFoundInStoreError(f"run {uid!r} not found")
            return dict(row.body)

    def list_runs(
        self,
        project: str | None = None,
        name: str | None = None,
        state: str | None = None,
        labels: dict[str, str] | None = None,
        uid: str | None = None,
        iterations: bool = False,
        last: int = 0,
    ) -> list[dict[str, Any]]:
        """Run records, newest first, filtered by the given fields.

        Children of hyper-parameter runs are left out unless ``iterations`` is true.
        """
        query = select(RunRow).order_by(RunRow.updated.desc(), RunRow.id.desc())
        if project is not None:
            query = query.where(RunRow.project == project)
        if name:
            query = query.where(RunRow.name == name)
        if state:
            query = query.where(RunRow.state == state)
        if uid:
            query = query.where(RunRow.uid == uid)
        if not iterations:
            query = query.where(RunRow.iteration == 0)
        with self.session() as s:
            runs = [dict(row.body) for row in s.scalars(query)]
        if labels:
            runs = [
                r
                for r in runs
                if all(r["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())
            ]
        return runs[:last] if last else runs

    def page_runs(
        self,
        project: str | None = None,
        name: str | None = None,
        state: str | None = None,
        labels: dict[str, str] | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[int, list[dict[str, Any]]]:
        """One page of parent runs, newest first, and how many match in all.

        Filtered in SQL (``name`` is a substring, ``labels`` exact values), so a
        page costs the same with ten runs or ten thousand.
        """
        query: Select[Any] = select(RunRow).where(RunRow.iteration == 0)
        if project is not None:
            query = query.where(RunRow.project == project)
        if name:
            query = query.where(RunRow.name.contains(name, autoescape=True))
        if state:
            query = query.where(RunRow.state == state)
        for key, value in (labels or {}).items():
            query = query.where(RunRow.body[("metadata", "labels", key)].as_string() == value)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            page = query.order_by(RunRow.updated.desc(), RunRow.id.desc())
            rows = s.scalars(page.offset(max(offset, 0)).limit(max(limit, 0)))
            return int(total), [dict(row.body) for row in rows]

    def run_counts(self) -> dict[str, dict[str, int]]:
        """Per project, how many parent runs are in each state."""
        query = (
            select(RunRow.project, RunRow.state, func.count())
            .where(RunRow.iteration == 0)
            .group_by(RunRow.project, RunRow.state)
        )
        counts: dict[str, dict[str, int]] = {}
        with self.session() as s:
            for project, state, count in s.execute(query):
                counts.setdefault(project, {})[state] = int(count)
        return counts

    def list_iterations(self, uid: str, project: str = "") -> list[dict[str, Any]]:
        """The children (``iteration > 0``) of a hyper-parameter run, by iteration."""
        query = (
            select(RunRow)
            .where(RunRow.project == project, RunRow.uid == uid, RunRow.iteration > 0)
            .order_by(RunRow.iteration)
        )
        with self.session() as s:
            return [dict(row.body) for row in s.scalars(query)]

    def del_run(self, uid: str, project: str = "") -> None:
        """Delete a run, its children and its logs."""
        with self.session() as s:
            s.execute(delete(RunRow).where(RunRow.project == project, RunRow.uid == uid))
            s.execute(delete(LogRow).where(LogRow.project == project, LogRow.uid == uid))

    def store_log(self, uid: str, project: str, body: bytes) -> None:
        """Append a chunk to the run's log."""
        if not body:
            return
        with self.session() as s:
            s.add(LogRow(project=project, uid=uid, body=body))

    def get_log(self, uid: str, project: str = "") -> bytes:
        """The run's whole log so far."""
        with self.session() as s:
            chunks = s.scalars(
                select(LogRow.body)
                .where(LogRow.project == project, LogRow.uid == uid)
                .order_by(LogRow.id)
            )
            return b"".join(chunks)
