"""e-books

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 15:46:28.379323
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ebook_titles",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("licences", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_ebook_titles_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_ebook_titles")),
    )
    op.create_table(
        "ebook_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "WAITING",
                "READY",
                "COLLECTED",
                "CANCELLED",
                "EXPIRED",
                name="ebookholdstate",
                native_enum=False,
                create_constraint=True,
                length=13,
            ),
            nullable=False,
        ),
        sa.Column("placed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ready_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patron_id"],
            ["patrons.id"],
            name=op.f("fk_ebook_holds_patron_id_patrons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_ebook_holds_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebook_holds")),
    )
    with op.batch_alter_table("ebook_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ebook_holds_patron_id"), ["patron_id"], unique=False)
        batch_op.create_index(
            "ix_ebook_holds_record_state", ["record_id", "state", "placed_at"], unique=False
        )

    op.create_table(
        "ebook_loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=True),
        sa.Column("borrowed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("returned_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patron_id"],
            ["patrons.id"],
            name=op.f("fk_ebook_loans_patron_id_patrons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_ebook_loans_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebook_loans")),
    )
    with op.batch_alter_table("ebook_loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ebook_loans_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            "ix_ebook_loans_patron_open", ["patron_id", "returned_at"], unique=False
        )
        batch_op.create_index(
            "ix_ebook_loans_record_open", ["record_id", "returned_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ebook_loans", schema=None) as batch_op:
        batch_op.drop_index("ix_ebook_loans_record_open")
        batch_op.drop_index("ix_ebook_loans_patron_open")
        batch_op.drop_index(batch_op.f("ix_ebook_loans_due_at"))

    op.drop_table("ebook_loans")
    with op.batch_alter_table("ebook_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_ebook_holds_record_state")
        batch_op.drop_index(batch_op.f("ix_ebook_holds_patron_id"))

    op.drop_table("ebook_holds")
    op.drop_table("ebook_titles")
