"""digital card codes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 15:43:08.203085
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_card_codes",
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_used_card_codes")),
    )
    with op.batch_alter_table("used_card_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_used_card_codes_used_at"), ["used_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("used_card_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_card_codes_used_at"))

    op.drop_table("used_card_codes")
