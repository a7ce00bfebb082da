"""Loans, holds and the basket."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column
from policies.enums import HoldState


class Loan(Base):
    """A copy lent to a patron. ``returned_at`` is set on check-in."""

    __tablename__ = "loans"
    __table_args__ = (
        Index("ix_loans_patron_open", "patron_id", "returned_at"),
        # A copy is on one open loan at most, whatever a code path forgets to check.
        Index(
            "uq_loans_open_copy",
            "copy_id",
            unique=True,
            postgresql_where=text("returned_at IS NULL"),
            sqlite_where=text("returned_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("copies.id"), index=True)
    # Nullable so a returned loan can forget its borrower (reading privacy).
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id", ondelete="SET NULL"))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))  # where it was lent
    loaned_at: Mapped[datetime]
    due_on: Mapped[date] = mapped_column(Date, index=True)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    returned_at: Mapped[datetime | None]
    # The due date a reminder was sent for (MAIL-2); a renewal's new due date earns another.
    reminded_for_due_on: Mapped[date | None] = mapped_column(Date)
    # Overdue notices sent for this loan and the day of the last one (MAIL-3).
    overdue_notices: Mapped[int] = mapped_column(Integer, default=0)
    last_overdue_notice_on: Mapped[date | None] = mapped_column(Date)


class Hold(Base):
    """A patron's request for a title, served first come, first served (HOLD-7).

    ``copy_id`` is set once a copy is trapped for the hold (IN_TRANSIT or READY).
    """

    __tablename__ = "holds"
    __table_args__ = (
        Index("ix_holds_record_state", "record_id", "state", "placed_at"),
        Index("ix_holds_patron_state", "patron_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null once a closed hold has forgotten its patron (reading privacy, resolvers/shared/privacy.py).
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    pickup_library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    state: Mapped[HoldState] = mapped_column(enum_column(HoldState), default=HoldState.WAITING)
    placed_at: Mapped[datetime]
    copy_id: Mapped[int | None] = mapped_column(ForeignKey("copies.id"))
    paused_until: Mapped[date | None] = mapped_column(Date)
    ready_at: Mapped[datetime | None]
    pickup_deadline: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    # STAFF-3: the call made for a READY hold (who, when, outcome); it goes with the hold.
    called_at: Mapped[datetime | None]
    called_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    call_outcome: Mapped[str | None] = mapped_column(String(100))


class BasketEntry(Base):
    """A title saved in the patron's basket (予約かご); not a hold (BASKET-2)."""

    __tablename__ = "basket_entries"
    __table_args__ = (UniqueConstraint("patron_id", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    added_at: Mapped[datetime]
