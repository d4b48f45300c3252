"""One SQLAlchemy engine per database URL, shared by every store of the process.

The run database, the monitoring tables and the feature-store catalog all ask
:func:`shared_engine` for their engine, so one URL means one connection pool.
A ``setup`` callable (migrations, ``create_all``) runs once per URL and name.

>>> import tempfile
>>> url = f"sqlite:///{tempfile.mkdtemp()}/x.db"
>>> shared_engine(url) is shared_engine(url)
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from servegraph.errors import ConfigError

_lock = threading.RLock()
_engines: dict[str, Engine] = {}
_setups: dict[str, set[str]] = {}


def normalize_url(url: str) -> str:
    """Turn a plain file path into a ``sqlite:///`` URL and ``postgresql://`` into psycopg 3.

    >>> normalize_url("postgres://u@h/db")
    'postgresql+psycopg://u@h/db'
    """
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    scheme, _, rest = url.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def shared_engine(url: str, setup: Callable[[Engine], None] | None = None) -> Engine:
    """The engine of ``url`` (created once); ``setup(engine)`` runs once per URL and setup."""
    url = normalize_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create(url)
            _engines[url] = engine
            _setups[url] = set()
        if setup is not None:
            name = f"{setup.__module__}.{setup.__qualname__}"
            if name not in _setups[url]:
                setup(engine)
                _setups[url].add(name)
        return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of ``url`` and forget its engine (and its setups)."""
    url = normalize_url(url)
    with _lock:
        engine = _engines.pop(url, None)
        _setups.pop(url, None)
    if engine is not None:
        engine.dispose()


def _create(url: str) -> Engine:
    from servegraph.storage.schema import ensure_folder, json_dumps

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"The database URL is invalid. Got {url!r} instead.") from exc
    if parsed.get_backend_name() == "sqlite":
        ensure_folder(url)  # every store creates its folder (a fresh SERVEGRAPH_HOME)
        engine = create_engine(parsed, connect_args={"timeout": 60}, json_serializer=json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True, json_serializer=json_dumps)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"unsupported database URL {url!r}: {exc}") from exc


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """WAL lets job processes write while others read; NORMAL sync is safe with WAL."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


__all__ = ["dispose_engine", "normalize_url", "shared_engine"]
