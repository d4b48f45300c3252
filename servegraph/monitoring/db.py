"""The monitoring tables' home: one SQLAlchemy ``MetaData`` on ``get_config().dbpath``.

Each monitoring module declares its tables on :data:`metadata`; :func:`engine`
returns the shared engine of the database URL (``storage.engines``) with every declared table
created (``create_all``), so the tables live beside the run database.

>>> import tempfile
>>> eng = engine(f"sqlite:///{tempfile.mkdtemp()}/m.db")
>>> eng.dialect.name
'sqlite'
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from servegraph.config import get_config
from servegraph.errors import ConfigError, StorageError
from servegraph.storage.engines import dispose_engine, normalize_url, shared_engine

metadata = sa.MetaData()

_created: dict[str, set[str]] = {}
_lock = threading.Lock()


def engine(url: str | None = None) -> sa.Engine:
    """The engine for ``url`` (default: the run database), with the tables created.

    URLs are read as the run database reads them (a plain path is SQLite,
    ``postgresql://`` uses psycopg 3).
    """
    url = normalize_url(url or get_config().dbpath)
    with _lock:
        try:
            eng = shared_engine(url)
        except (ConfigError, SQLAlchemyError, ValueError) as exc:
            raise StorageError(f"cannot open the monitoring database {url!r}: {exc}") from exc
        missing = set(metadata.tables) - _created.setdefault(url, set())
        if missing:
            try:
                metadata.create_all(eng, tables=[metadata.tables[t] for t in sorted(missing)])
            except SQLAlchemyError as exc:
                raise StorageError(f"cannot create monitoring tables in {url!r}: {exc}") from exc
            _created[url] |= missing
    return eng


@contextmanager
def begin(url: str | None = None) -> Iterator[sa.Connection]:
    """A transaction on the monitoring database; SQLAlchemy errors become StorageError."""
    eng = engine(url)
    try:
        with eng.begin() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StorageError(f"monitoring database error on {eng.url!r}: {exc}") from exc


def dispose(url: str | None = None) -> None:
    """Close the pooled connections of ``url``'s engine and forget it."""
    url = normalize_url(url or get_config().dbpath)
    with _lock:
        _created.pop(url, None)
    dispose_engine(url)
