"""The catalogue's search index: posting lists of index keys, and each title's folded text.

Both are ordinary tables, so the index works the same on SQLite and PostgreSQL and is
written in the same transaction as the titles it describes.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# Keys and sort keys compare by code point on both databases: SQLite's BINARY collation
# already does, PostgreSQL needs "C" (a locale collation would break prefix ranges).
BinaryString = String(80).with_variant(String(80, collation="C"), "postgresql")
BinaryText = Text().with_variant(Text(collation="C"), "postgresql")


class SearchPosting(Base):
    """Which titles carry an index key, as a serialised roaring bitmap of record ids.

    A key is a field letter and a gram (``t:猫``, ``a:soseki``) or a facet (``m:BOOK``,
    ``y:2016``, ``l:3``, ``*`` for every title). Ids are split into blocks of 65,536 so
    that an edit rewrites a small bitmap; one key may have several rows in a block (one
    per import batch), which a search unites and ``compact`` merges.
    """

    __tablename__ = "search_postings"
    __table_args__ = (Index("ix_search_postings_key_block", "key", "block"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(BinaryString)
    block: Mapped[int] = mapped_column(Integer)
    ids: Mapped[bytes] = mapped_column(LargeBinary)


class RecordSearch(Base):
    """A title as the index last saw it: folded text per field (checked for queries of
    three or more kana/kanji, whose pairs alone may match apart), sort keys, and the facet
    keys, so a change can remove exactly the keys it added."""

    __tablename__ = "record_search"
    __table_args__ = (
        Index("ix_record_search_year", "sort_year", "record_id"),
        Index("ix_record_search_title", "title_key", "record_id"),
    )

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    title_key: Mapped[str] = mapped_column(BinaryText)
    sort_year: Mapped[int] = mapped_column(Integer)  # 0 when unknown, so it sorts last
    title_text: Mapped[str] = mapped_column(Text)
    author_text: Mapped[str] = mapped_column(Text)
    publisher_text: Mapped[str] = mapped_column(Text)
    subject_text: Mapped[str] = mapped_column(Text)
    facets: Mapped[str] = mapped_column(Text)  # space-separated facet keys
