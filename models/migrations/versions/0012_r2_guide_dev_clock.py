"""development clock

Revision ID: 0010_r2_guide
Revises: 0010_privacy
Create Date: 2026-12-03 06:00:00

One row holding the development clock's offset, read by the API and the workers alike
(issue [R2 5/9]). Production never writes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_r2_guide"
down_revision: str | None = "0010_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dev_clock",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("offset_seconds", sa.BigInteger(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dev_clock")
