"""Shared plumbing of the run database stores: sessions and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from servegraph.errors import StorageError


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class StoreBase:
    """Holds the engine; ``session()`` commits on success and maps SQLAlchemy errors."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction; SQLAlchemy errors become StorageError."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StorageError(f"run database error: {exc}") from exc
