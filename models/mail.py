"""The mail outbox: every mail owed is a row written with the change that owes it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column
from policies.enums import OutboxState


class OutboxMessage(Base):
    """One mail to send. ``dedupe_key`` (``hold-ready:<hold id>:<library id>``...) makes it owed once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    patron_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrons.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[OutboxState] = mapped_column(
        enum_column(OutboxState), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]  # e.g. the next opening day (MAIL-1)
    next_attempt_at: Mapped[datetime]
    # A claimed row belongs to one dispatcher until its lease ends; a worker that dies
    # mid-dispatch leaves the row to be claimed again once the lease is over.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    recipients: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The text as sent, for staff (mailLog) until the retention scrub empties it with the
    # payload (resolvers/mail_retention.py): then only kind, times, state and the
    # recipients' domains are left.
    body: Mapped[str | None] = mapped_column(Text)
    scrubbed: Mapped[bool] = mapped_column(default=False, server_default=false())


class SweepRun(Base):
    """How far a scheduled scan has got, so a missed run is caught up by the next one."""

    __tablename__ = "sweep_runs"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    done_through: Mapped[date]
    finished_at: Mapped[datetime]
