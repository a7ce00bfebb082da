"""a mail with nothing left to send is SKIPPED, not FAILED

Revision ID: 0014_r2_layout2
Revises: 0010_r2_search
Create Date: 2026-12-03 07:00:00

The dispatcher's re-check drops a mail whose hold was collected or whose loans were
returned (reading privacy); it was recorded as FAILED, which told staff a delivery had
failed. ``outbox.state`` gains SKIPPED. Downgrading folds SKIPPED back into FAILED.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_r2_layout2"
down_revision: str | None = "0010_r2_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("PENDING", "SENDING", "SENT", "FAILED")
NEW = (*OLD, "SKIPPED")


def _state(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="outboxstate", native_enum=False, create_constraint=True, length=11
    )


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.alter_column(
            "state", type_=_state(NEW), existing_type=_state(OLD), existing_nullable=False
        )
    op.execute(
        "UPDATE outbox SET state = 'SKIPPED' "
        "WHERE state = 'FAILED' AND sent_at IS NULL AND attempts = 0"
    )


def downgrade() -> None:
    op.execute("UPDATE outbox SET state = 'FAILED' WHERE state = 'SKIPPED'")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.alter_column(
            "state", type_=_state(OLD), existing_type=_state(NEW), existing_nullable=False
        )
