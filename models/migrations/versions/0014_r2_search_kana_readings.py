"""kana readings of titles, authors and publishers

Revision ID: 0010_r2_search
Revises: 0010_staff
Create Date: 2026-12-03 05:40:00

Katakana readings (ヨミ) for kana search, and search folding that now folds variant kanji
from OpenCC's tables and kana spellings. Existing catalogues: run ``hondana reindex`` once
after upgrading; it works out every title's readings and rebuilds the index with the new
folding (until then the old index keeps answering as before).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_r2_search"
down_revision: str | None = "0010_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("title_kana", "responsibility_kana", "publisher_kana")


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
