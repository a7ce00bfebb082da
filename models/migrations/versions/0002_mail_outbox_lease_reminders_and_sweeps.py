"""mail outbox lease, reminders and sweeps

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:44:41.177396
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sweep_runs",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("done_through", sa.Date(), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sweep_runs")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_for_due_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("overdue_notices", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_overdue_notice_on", sa.Date(), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("lease_until", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("message_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("recipients", sa.JSON(), nullable=True))

    with op.batch_alter_table("patrons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("due_reminder", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("due_reminder_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("new_arrival_fields", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("email1_failure", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("email2_failure", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patrons", schema=None) as batch_op:
        batch_op.drop_column("email2_failure")
        batch_op.drop_column("email1_failure")
        batch_op.drop_column("new_arrival_fields")
        batch_op.drop_column("due_reminder_days")
        batch_op.drop_column("due_reminder")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("recipients")
        batch_op.drop_column("message_id")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")

    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("last_overdue_notice_on")
        batch_op.drop_column("overdue_notices")
        batch_op.drop_column("reminded_for_due_on")

    op.drop_table("sweep_runs")
