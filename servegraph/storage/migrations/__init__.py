"""Alembic migrations of the run database, run programmatically by get_run_db."""
