"""a reset's temporary password waits beside the current one

Revision ID: 0010_r2_security
Revises: 0009
Create Date: 2026-12-03 06:00:00

An anonymous reset request (AUTH-8) no longer replaces the password at once: the mailed
temporary password's hash waits in ``patrons.pending_password_hash`` until it is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_r2_security"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patrons") as batch_op:
        batch_op.add_column(sa.Column("pending_password_hash", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patrons") as batch_op:
        batch_op.drop_column("pending_password_hash")
