"""Bookshelves (My本棚): a patron's named lists of favourite titles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Bookshelf(Base):
    """One named shelf of a patron."""

    __tablename__ = "bookshelves"
    __table_args__ = (UniqueConstraint("patron_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime]


class BookshelfEntry(Base):
    """A title on a shelf."""

    __tablename__ = "bookshelf_entries"
    __table_args__ = (UniqueConstraint("shelf_id", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("bookshelves.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    added_at: Mapped[datetime]
