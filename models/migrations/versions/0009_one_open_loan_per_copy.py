"""one open loan per copy

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 19:40:00

A partial unique index: a copy is on at most one loan that has not been returned.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "uq_loans_open_copy",
        "loans",
        ["copy_id"],
        unique=True,
        postgresql_where=sa.text("returned_at IS NULL"),
        sqlite_where=sa.text("returned_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_loans_open_copy", table_name="loans")
