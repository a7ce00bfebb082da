"""a web password application with no address on file becomes a staff application

Revision ID: 0016_r2_password_application
Revises: 0014_r2_layout2
Create Date: 2026-12-03 08:30:00

AUTH-3: ``applications.kind`` gains PASSWORD_ISSUE; such an application keeps no address
(the typed one is unverified), so ``applications.email`` may be NULL; a partial unique
index keeps one open password application per card. Downgrading deletes the password
applications, which the older schema cannot hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_r2_password_application"
down_revision: str | None = "0014_r2_layout2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("NEW_REGISTRATION", "CARD_REISSUE", "DETAILS_CHANGE", "CARD_RENEWAL", "CARD_NUMBER_NOTICE")
NEW = (*OLD, "PASSWORD_ISSUE")
OPEN = "kind = 'PASSWORD_ISSUE' AND state = 'PENDING'"


def _kind(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="applicationkind", native_enum=False, create_constraint=True, length=22
    )


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch_op:
        batch_op.alter_column(
            "kind", type_=_kind(NEW), existing_type=_kind(OLD), existing_nullable=False
        )
        batch_op.alter_column(
            "email", existing_type=sa.String(length=254), nullable=True, existing_nullable=False
        )
    op.create_index(
        "uq_applications_open_password_issue",
        "applications",
        ["patron_id"],
        unique=True,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("uq_applications_open_password_issue", table_name="applications")
    op.execute("DELETE FROM applications WHERE kind = 'PASSWORD_ISSUE' OR email IS NULL")
    with op.batch_alter_table("applications") as batch_op:
        batch_op.alter_column(
            "email", existing_type=sa.String(length=254), nullable=False, existing_nullable=True
        )
        batch_op.alter_column(
            "kind", type_=_kind(OLD), existing_type=_kind(NEW), existing_nullable=False
        )
