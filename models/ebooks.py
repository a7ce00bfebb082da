"""E-books: licences per title, loans (reading access, never files) and holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column
from policies.enums import EbookHoldState


class EbookTitle(Base):
    """How many licences the library holds for an e-book record (EBOOK-4)."""

    __tablename__ = "ebook_titles"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    licences: Mapped[int] = mapped_column(Integer, default=1)


class EbookLoan(Base):
    """One licence lent to one patron until ``due_at`` or an early return (EBOOK-2)."""

    __tablename__ = "ebook_loans"
    __table_args__ = (
        Index("ix_ebook_loans_record_open", "record_id", "returned_at"),
        Index("ix_ebook_loans_patron_open", "patron_id", "returned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id", ondelete="SET NULL"))
    borrowed_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    returned_at: Mapped[datetime | None]


class EbookHold(Base):
    """A hold on an e-book; READY holds keep a licence until ``expires_at`` (EBOOK-3)."""

    __tablename__ = "ebook_holds"
    __table_args__ = (Index("ix_ebook_holds_record_state", "record_id", "state", "placed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    # Null once a closed hold has forgotten its patron (reading privacy, resolvers/shared/privacy.py).
    patron_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrons.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[EbookHoldState] = mapped_column(
        enum_column(EbookHoldState), default=EbookHoldState.WAITING
    )
    placed_at: Mapped[datetime]
    ready_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
