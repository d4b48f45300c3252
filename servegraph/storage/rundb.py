"""The run database: runs, logs, artifacts, functions, projects and schedules.

SQLite under ``$SERVEGRAPH_HOME`` by default, PostgreSQL (or any SQLAlchemy URL)
by URL; the schema is created and upgraded by the shipped Alembic migrations
when the database is opened.

>>> db = get_run_db()                                      # doctest: +SKIP
>>> db.list_runs(project="churn", state="completed")       # doctest: +SKIP
"""

from __future__ import annotations

from servegraph.config import get_config
from servegraph.storage.catalog import CatalogStore
from servegraph.storage.projectstore import ProjectStore
from servegraph.storage.runstore import RunStore
from servegraph.storage.schema import dispose_engine, normalize_url, open_engine


class RunDB(RunStore, CatalogStore, ProjectStore):
    """All stores of one database; build it with :func:`get_run_db`."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        super().__init__(open_engine(self.url))

    def close(self) -> None:
        """Release the database connections (the next ``get_run_db`` reopens)."""
        dispose_engine(self.url)

    def __repr__(self) -> str:
        return f"RunDB({self.engine.url.render_as_string(hide_password=True)!r})"


def get_run_db(url: str | None = None) -> RunDB:
    """Open the run database at ``url`` (default: ``get_config().dbpath``).

    ``url`` is a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``)
    or a plain file path (SQLite).
    """
    return RunDB(url or get_config().dbpath)
