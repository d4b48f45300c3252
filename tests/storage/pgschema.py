"""A unique PostgreSQL schema per test, dropped afterwards (other developers share the DB)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text


@contextmanager
def pg_schema_url(base_url: str, unique: str) -> Iterator[str]:
    """Create schema ``sg_runs_{unique}``; yield a URL whose search_path is that schema."""
    schema = f"sg_runs_{unique}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}?options=-csearch_path%3D{schema}"
    finally:
        from servegraph.storage.schema import dispose_engine

        dispose_engine(f"{base_url}?options=-csearch_path%3D{schema}")
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
