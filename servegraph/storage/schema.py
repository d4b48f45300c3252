"""Open a run database engine and bring its schema to the newest migration.

``open_engine(url)`` creates the SQLAlchemy engine (SQLite files get their
directory created and a generous lock timeout) and runs the Alembic migrations
shipped in ``servegraph/storage/migrations`` up to ``head``, once per URL and
process.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from servegraph.errors import ConfigError, StorageError
from servegraph.storage.engines import dispose_engine, normalize_url, shared_engine

MIGRATIONS = Path(__file__).parent / "migrations"


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
    return shared_engine(url, migrate)


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


def _safe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


__all__ = ["dispose_engine", "json_dumps", "migrate", "normalize_url", "open_engine"]
