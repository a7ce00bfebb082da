"""reading privacy: closed holds forget their patron; sent mails keep their text until the
retention scrub

Revision ID: 0010_privacy
Revises: 0010_r2_security
Create Date: 2026-12-03 05:30:00

``holds.patron_id`` and ``ebook_holds.patron_id`` become nullable (a closed hold of a
patron without a reading history forgets them); ``outbox`` gains ``body`` (the text as
sent, for staff) and ``scrubbed`` (the retention scrub has emptied the row).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_privacy"
down_revision: str | None = "0010_r2_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("holds", "ebook_holds"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("patron_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("scrubbed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("scrubbed")
        batch.drop_column("body")
    for table in ("holds", "ebook_holds"):
        op.execute(
            sa.table(table, sa.column("patron_id")).delete().where(sa.column("patron_id").is_(None))
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("patron_id", existing_type=sa.Integer(), nullable=False)
