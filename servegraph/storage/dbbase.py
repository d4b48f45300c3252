"""Shared plumbing of the run database stores: sessions and error translation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from servegraph.errors import StorageError

_P = ParamSpec("_P")
_R = TypeVar("_R")
CONFLICT_RETRIES = 5


def retry_on_conflict(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Retry an insert-or-update when a concurrent writer inserted the same key first.

    The store methods look a row up and insert it if missing; two writers can both
    miss it, and the loser hits the unique key. Run again, it finds and updates the row.
    """

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return method(*args, **kwargs)
            except StorageError as exc:
                if not isinstance(exc.__cause__, IntegrityError) or attempt + 1 == CONFLICT_RETRIES:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper


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
