"""Web applications (APP-1) and password applications handed to staff (AUTH-3), waiting
for staff to approve or reject them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column
from policies.enums import ApplicationKind, ApplicationState

OPEN_PASSWORD_ISSUE = "kind = 'PASSWORD_ISSUE' AND state = 'PENDING'"


class Application(Base):
    """One application from the web: who applied, for what, and what staff decided."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_state_created", "state", "created_at"),
        # AUTH-3: repeated web password applications for one card stay one open application.
        Index(
            "uq_applications_open_password_issue",
            "patron_id",
            unique=True,
            postgresql_where=text(OPEN_PASSWORD_ISSUE),
            sqlite_where=text(OPEN_PASSWORD_ISSUE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ApplicationKind] = mapped_column(enum_column(ApplicationKind))
    state: Mapped[ApplicationState] = mapped_column(
        enum_column(ApplicationState), default=ApplicationState.PENDING
    )
    name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    # Where the decision is mailed; None for a password application (AUTH-3), whose typed
    # address is unverified and never kept.
    email: Mapped[str | None] = mapped_column(String(254))
    card_number: Mapped[str | None] = mapped_column(String(20))
    details: Mapped[str | None] = mapped_column(Text)  # free text: address, what changed
    patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    decision_note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
