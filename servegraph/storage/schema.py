"""Open a run database engine and bring its schema to the newest migration.

``open_engine(url)`` creates the SQLAlchemy engine (SQLite files get their
directory created and a generous lock timeout) and runs the Alembic migrations
shipped in ``servegraph/storage/migrations`` up to ``head``, once per URL and
process.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from servegraph.errors import ConfigError, StorageError

MIGRATIONS = Path(__file__).parent / "migrations"

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


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


def sqlite_folder(url: str) -> Path | None:
    """The folder of a SQLite database URL (None for other databases and ``:memory:``)."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).expanduser().parent


def ensure_folder(url: str) -> None:
    """Create the folder of a SQLite database (every store does before it connects)."""
    folder = sqlite_folder(url)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the database folder {str(folder)!r}: {exc}") from exc


def existing_folder(url: str) -> str:
    """``url`` if its SQLite folder exists (an explicit ``--db``: a typo must not silently
    create an empty database); ConfigError naming the folder otherwise.

    >>> existing_folder("postgresql://u@h/db")
    'postgresql://u@h/db'
    """
    folder = sqlite_folder(url)
    if folder is not None and not folder.is_dir():
        raise ConfigError(
            f"The database folder {str(folder)!r} of {url!r} does not exist; "
            "create it or fix the path."
        )
    return url


def open_engine(url: str) -> Engine:
    """Return the (cached) engine for ``url`` with its schema migrated to head."""
    url = normalize_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create(url)
            migrate(engine)
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of ``url`` and forget its engine."""
    with _lock:
        engine = _engines.pop(normalize_url(url), None)
    if engine is not None:
        engine.dispose()


def migrate(engine: Engine, revision: str = "head", downgrade: bool = False) -> None:
    """Run the shipped Alembic migrations on ``engine`` up (or down) to ``revision``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if downgrade else command.upgrade)(cfg, revision)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot migrate the run database {_safe(engine)}: {exc}") from exc


def _create(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"The run database URL is invalid. Got {url!r} instead.") from exc
    if parsed.get_backend_name() == "sqlite":
        ensure_folder(url)
        engine = create_engine(parsed, connect_args={"timeout": 60}, json_serializer=json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True, json_serializer=json_dumps)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"unsupported run database URL {url!r}: {exc}") from exc


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def json_dumps(doc: Any) -> str:
    """JSON of a stored document; NaN/Infinity (invalid JSON, which PostgreSQL rejects)
    are stored as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` on every backend.

    >>> json_dumps({"loss": float("nan"), "x": [1.5, float("-inf")]})
    '{"loss": "NaN", "x": [1.5, "-Infinity"]}'
    """
    try:
        return json.dumps(doc, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(doc), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE[str(value)]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets job processes write while others read; NORMAL sync is safe with WAL."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _safe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
