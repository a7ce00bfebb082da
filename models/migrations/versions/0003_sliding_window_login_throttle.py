"""sliding-window login throttle

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 15:12:36.431327
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Failed-login counts are transient (minutes); starting them afresh loses nothing.
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recent_failures", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.drop_column("failures")
        batch_op.drop_column("window_started_at")


def downgrade() -> None:
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("window_started_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("failures", sa.INTEGER(), nullable=False, server_default="0"))
        batch_op.drop_column("recent_failures")
