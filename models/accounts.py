"""Patrons, staff users, sessions and the failed-login throttle."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column
from policies.enums import CardKind, ContactMethod, PasswordState


class Patron(Base):
    """A card holder. The card number is the login id (AUTH-1)."""

    __tablename__ = "patrons"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    card_kind: Mapped[CardKind] = mapped_column(enum_column(CardKind), default=CardKind.CITY)
    card_expires_on: Mapped[date] = mapped_column(Date)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_state: Mapped[PasswordState] = mapped_column(
        enum_column(PasswordState), default=PasswordState.NONE
    )
    password_changed_at: Mapped[datetime | None]
    # A temporary password mailed on an anonymous reset request (AUTH-8), waiting: the
    # current password keeps working until this one is used (it then replaces it) or the
    # patron logs in with the current one (which voids it). Never the password itself.
    pending_password_hash: Mapped[str | None] = mapped_column(String(200))
    guardian_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    email1: Mapped[str | None] = mapped_column(String(254))
    email2: Mapped[str | None] = mapped_column(String(254))
    contact_method: Mapped[ContactMethod] = mapped_column(
        enum_column(ContactMethod), default=ContactMethod.NONE
    )
    default_pickup_library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id", ondelete="SET NULL")
    )
    # Due-date reminder (PREF-5): opted in, and how many days before (None: the default).
    due_reminder: Mapped[bool] = mapped_column(Boolean, default=False)
    due_reminder_days: Mapped[int | None] = mapped_column(Integer)
    # New-arrivals alert fields (PREF-6): {"subject_classes": [...], "keywords": [...],
    # "authors": [...]}; None or empty lists: no alert.
    new_arrival_fields: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    # A permanent delivery failure (SMTP 5xx) marks the address failing, with the reply.
    email1_failure: Mapped[str | None] = mapped_column(String(300))
    email2_failure: Mapped[str | None] = mapped_column(String(300))
    # Reading privacy: returned loans keep the borrower only for patrons who opted in.
    keep_reading_history: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    # STAFF-3: for contact method PHONE (and when mail bounces), staff call this number.
    phone: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(200))


class StaffUser(Base):
    """A staff account, separate from patrons (STAFF-1). ``roles`` is a comma-separated set."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(200), default="")
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Session(Base):
    """A login. Only the SHA-256 of the token is stored; the token itself never is."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("(patron_id IS NULL) <> (staff_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    patron_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrons.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    user_agent: Mapped[str | None] = mapped_column(Text)


class LoginThrottleRow(Base):
    """Failed logins per key (a card number or staff user name, known or not, AUTH-11).

    Kept in the database so that every API process sees the same count.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    # ISO instants of the recent failures, oldest first (a sliding window, AUTH-11).
    recent_failures: Mapped[list[str]] = mapped_column(JSON, default=list)
    locked_until: Mapped[datetime | None]


class StaffAudit(Base):
    """A staff member's read of a patron's personal data (reading privacy), or an act done
    for a patron at the desk (STAFF-2). It names no title."""

    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    patron_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrons.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime]
    # Why (STAFF-2: a hold cancelled or moved for a patron, an override at the desk).
    reason: Mapped[str | None] = mapped_column(String(200))


class UsedCardCode(Base):
    """A digital-card code already accepted at the counter: a second use is a replay."""

    __tablename__ = "used_card_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(index=True)
