"""What the staff desk must be told before it acts for a patron (STAFF-2, STAFF-4)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from policies.cards import days_overdue
from policies.enums import ContactMethod
from policies.errors import ErrorCode, RuleViolation
from policies.preferences import normalize_email
from policies.text import has_control

# STAFF-4: a card expiring within this many days is worth a word at check-out.
EXPIRY_WARNING_DAYS = 30
MAX_REASON_LENGTH = 200
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,28}")


class DeskWarnings(Exception):
    """Warnings the clerk must see; the act proceeds only with an override (STAFF-4)."""

    def __init__(self, warnings: list[RuleViolation]) -> None:
        super().__init__(", ".join(w.code.value for w in warnings))
        self.warnings = warnings


@dataclass(frozen=True, slots=True)
class CheckoutFacts:
    """The patron and copy facts the check-out warnings look at."""

    due_dates: tuple[date, ...]  # the patron's open loans
    card_expires_on: date
    wanted_by_others: bool  # another patron's hold waits for the title


def checkout_warnings(facts: CheckoutFacts, today: date) -> list[RuleViolation]:
    """Everything the clerk should hear before lending (STAFF-4); each needs an override."""
    warnings: list[RuleViolation] = []
    worst = max((days_overdue(d, today) for d in facts.due_dates), default=0)
    if worst > 0:
        warnings.append(RuleViolation(ErrorCode.PATRON_OVERDUE, "STAFF-4", days_overdue=worst))
    if facts.wanted_by_others:
        warnings.append(RuleViolation(ErrorCode.WANTED_BY_HOLD, "STAFF-4", field="barcode"))
    if today <= facts.card_expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS):
        warnings.append(
            RuleViolation(
                ErrorCode.CARD_EXPIRING_SOON,
                "STAFF-4",
                expires_on=facts.card_expires_on.isoformat(),
            )
        )
    return warnings


def clean_reason(reason: str | None, *, required: bool = True) -> str | None:
    """A reason given for an act done for a patron (STAFF-2): trimmed, printable, short."""
    text = (reason or "").strip()
    if not text:
        if required:
            raise RuleViolation(ErrorCode.REASON_REQUIRED, "STAFF-2", field="reason")
        return None
    if len(text) > MAX_REASON_LENGTH or has_control(text):
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="reason", max_length=MAX_REASON_LENGTH)
    return text


def worst_overdue(due_dates: Iterable[date], today: date) -> int:
    """The patron's most overdue loan, in days (0: none), for the patron panel."""
    return max((days_overdue(d, today) for d in due_dates), default=0)


@dataclass(frozen=True, slots=True)
class PatronDetails:
    """What staff type when registering a patron or correcting their details (STAFF-1)."""

    name: str
    name_kana: str | None
    birth_date: date
    address: str | None
    phone: str | None
    email: str | None
    guardian_consent: bool
    contact_method: ContactMethod


def _line(value: str | None, field: str, max_length: int, *, required: bool = False) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise RuleViolation(ErrorCode.INVALID_INPUT, "STAFF-1", field=field)
        return None
    if len(text) > max_length or not text.isprintable():
        raise RuleViolation(ErrorCode.INVALID_INPUT, "STAFF-1", field=field, max_length=max_length)
    return text


def clean_details(details: PatronDetails, today: date) -> PatronDetails:
    """The details trimmed and checked, field by field, or ``INVALID_INPUT`` naming one."""
    name = _line(details.name, "name", 100, required=True)
    assert name is not None
    if not date(1900, 1, 1) <= details.birth_date <= today:
        raise RuleViolation(ErrorCode.INVALID_INPUT, "STAFF-1", field="birthDate")
    phone = _line(details.phone, "phone", 30)
    if phone is not None and not PHONE.fullmatch(phone):
        raise RuleViolation(ErrorCode.INVALID_INPUT, "STAFF-3", field="phone")
    email = normalize_email(details.email, "email") if details.email else None
    if details.contact_method is ContactMethod.EMAIL and email is None:
        raise RuleViolation(ErrorCode.EMAIL_REQUIRED, "PREF-3", field="contactMethod")
    if details.contact_method is ContactMethod.PHONE and phone is None:
        raise RuleViolation(ErrorCode.INVALID_INPUT, "STAFF-3", field="phone")
    return PatronDetails(
        name=name,
        name_kana=_line(details.name_kana, "nameKana", 100),
        birth_date=details.birth_date,
        address=_line(details.address, "address", 200),
        phone=phone,
        email=email,
        guardian_consent=details.guardian_consent,
        contact_method=details.contact_method,
    )


def check_card_number(card_number: str) -> str:
    """A card number staff type for a new card: ASCII digits and letters, at most 20."""
    text = card_number.strip()
    if not text or len(text) > 20 or not text.isascii() or not text.isalnum():
        raise RuleViolation(ErrorCode.INVALID_INPUT, "STAFF-1", field="cardNumber")
    return text


def renewed_expiry(expires_on: date, today: date, years: int) -> date:
    """A renewed card runs ``years`` from today, or from its expiry if still valid (CARD-1)."""
    base = max(today, expires_on)
    try:
        return base.replace(year=base.year + years)
    except ValueError:  # 29 February
        return base.replace(year=base.year + years, day=28)
