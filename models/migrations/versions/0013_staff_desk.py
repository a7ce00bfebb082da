"""staff desk: patron phone, copy shelf location, hold call log, audit reasons

Revision ID: 0010_staff
Revises: 0010_r2_guide
Create Date: 2026-12-03 05:30:00

STAFF-3: a patron has a phone number (and, registered at the desk, an address) and a ready hold remembers the call made for it (who,
when, outcome; the row is the hold's own, so it goes when the hold goes). STAFF-5: a copy has
a shelf location beside its call number (``shelf_mark``). STAFF-2: an audited act may carry
its reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010_staff"
down_revision: str | None = "0010_r2_guide"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patrons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=200), nullable=True))
    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shelf_location", sa.String(length=50), nullable=True))
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("called_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("called_by_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("call_outcome", sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_holds_called_by_staff_id_staff_users"),
            "staff_users",
            ["called_by_staff_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("staff_audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_audit", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_holds_called_by_staff_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("call_outcome")
        batch_op.drop_column("called_by_staff_id")
        batch_op.drop_column("called_at")
    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.drop_column("shelf_location")
    with op.batch_alter_table("patrons", schema=None) as batch_op:
        batch_op.drop_column("address")
        batch_op.drop_column("phone")
