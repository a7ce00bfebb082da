"""E-book rules (EBOOK-1..4): who may borrow, how many, for how long; licences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from policies.config import EbookPolicy
from policies.enums import CardKind, PasswordState
from policies.errors import ErrorCode, RuleViolation
from policies.school import FIRST_ELEMENTARY, school_grade


def check_ebook_patron(state: PasswordState, card_kind: CardKind, birth: date, today: date) -> None:
    """Active password, elementary-school age or older, not a wide-area card (EBOOK-1)."""
    if state is not PasswordState.ACTIVE:
        raise RuleViolation(ErrorCode.EBOOK_NOT_ALLOWED, "EBOOK-1", reason="PASSWORD")
    if card_kind is CardKind.WIDE_AREA:
        raise RuleViolation(ErrorCode.EBOOK_NOT_ALLOWED, "EBOOK-1", reason="WIDE_AREA")
    if school_grade(birth, today) < FIRST_ELEMENTARY:
        raise RuleViolation(ErrorCode.EBOOK_NOT_ALLOWED, "EBOOK-1", reason="AGE")


def free_licences(licences: int, on_loan: int, kept_for_holds: int) -> int:
    """Licences nobody is using or being kept for (EBOOK-4: one licence, one patron)."""
    return max(0, licences - on_loan - kept_for_holds)


def check_borrow(active_loans: int, free: int, policy: EbookPolicy, *, kept_for_me: bool) -> None:
    """At most N e-book loans at once (EBOOK-2); a licence must be free, or kept for the
    patron's own secured hold (EBOOK-3/4)."""
    if active_loans >= policy.max_loans:
        raise RuleViolation(ErrorCode.EBOOK_LOAN_LIMIT, "EBOOK-2", limit=policy.max_loans)
    if free < 1 and not kept_for_me:
        raise RuleViolation(ErrorCode.EBOOK_UNAVAILABLE, "EBOOK-4")


def check_hold(active_holds: int, already_held: bool, free: int, policy: EbookPolicy) -> None:
    """At most N e-book holds (EBOOK-3); one per title; a free licence is borrowed, not held."""
    if already_held:
        raise RuleViolation(ErrorCode.ALREADY_HELD, "EBOOK-3")
    if active_holds >= policy.max_holds:
        raise RuleViolation(ErrorCode.EBOOK_HOLD_LIMIT, "EBOOK-3", limit=policy.max_holds)
    if free > 0:
        raise RuleViolation(ErrorCode.EBOOK_AVAILABLE, "EBOOK-3")


@dataclass(frozen=True, slots=True)
class KeptUntil:
    """How long a secured e-book hold is kept: the last library day the mail states, and
    the instant that day ends in the library's time zone (the hold expires after it)."""

    last_day: date
    ends_at: datetime


def ebook_hold_kept_until(secured_at: datetime, timezone: str, keep_days: int) -> KeptUntil:
    """A secured e-book hold is kept a week (EBOOK-3): through the end of the library day
    ``keep_days`` after the day it was secured, not to the same clock time, so the date the
    mail states is a whole day to borrow it (SVC-2)."""
    zone = ZoneInfo(timezone)
    last_day = secured_at.astimezone(zone).date() + timedelta(days=keep_days)
    ends_at = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
    return KeptUntil(last_day=last_day, ends_at=ends_at.astimezone(secured_at.tzinfo))
