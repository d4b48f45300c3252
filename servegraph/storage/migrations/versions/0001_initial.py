"""Initial schema: runs, artifacts, functions, tags, projects, schedules, logs.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False, index=True),
        sa.Column("uid", sa.String(64), nullable=False, index=True),
        sa.Column("iteration", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False, index=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("start_time", _TS, nullable=True),
        sa.Column("updated", _TS, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.UniqueConstraint("project", "uid", "iteration", name="uq_runs_key"),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False, index=True),
        sa.Column("key", sa.String(255), nullable=False, index=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("producer", sa.String(64), nullable=False),
        sa.Column("updated", _TS, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.UniqueConstraint("project", "key", "hash", name="uq_artifacts_key"),
    )
    op.create_table(
        "functions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False, index=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("updated", _TS, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.UniqueConstraint("project", "name", "hash", name="uq_functions_key"),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("tag", sa.String(255), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("kind", "project", "name", "tag", name="uq_tags_key"),
    )
    op.create_table(
        "projects",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created", _TS, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("cron", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created", _TS, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.UniqueConstraint("project", "name", name="uq_schedules_key"),
    )
    op.create_table(
        "logs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False, index=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for table in ("logs", "schedules", "projects", "tags", "functions", "artifacts", "runs"):
        op.drop_table(table)
