"""Patron preferences: e-mail addresses (PREF-2), contact method (PREF-1, PREF-3), reminder
days (PREF-5) and new-arrival fields (PREF-6); bookshelf names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email

from policies.enums import ContactMethod
from policies.errors import ErrorCode, RuleViolation

MAX_EMAIL = 254
REMINDER_DAYS = range(1, 15)
MAX_FIELD_ITEMS = 10
MAX_FIELD_TEXT = 50
MAX_SHELF_NAME = 30
# Japanese mobile carriers long issued addresses that break RFC 5322 (two dots in a row, a
# dot before the @). PREF-2 says carrier addresses are accepted, so these domains get a
# looser local part; everything else goes through email-validator.
CARRIER_DOMAINS = frozenset(
    {"docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp",
     "disney.ne.jp", "ymobile.ne.jp", "y-mobile.ne.jp", "willcom.com", "emnet.ne.jp"}
)  # fmt: skip
_CARRIER_LOCAL = re.compile(r"^[A-Za-z0-9._\-+/?]{1,64}$")


def normalize_email(raw: str, field: str) -> str:
    """A usable ASCII address (domain lower-cased) or ``INVALID_EMAIL`` with the reason."""
    text = raw.strip()
    if not text or len(text) > MAX_EMAIL or not text.isascii() or not text.isprintable():
        raise RuleViolation(ErrorCode.INVALID_EMAIL, "PREF-2", field=field, reason="FORMAT")
    local, _, domain = text.rpartition("@")
    if domain.lower() in CARRIER_DOMAINS and _CARRIER_LOCAL.match(local):
        return f"{local}@{domain.lower()}"
    try:
        # No DNS here: deliverability shows in delivery (a 5xx marks the address failing).
        return str(
            validate_email(text, check_deliverability=False, allow_smtputf8=False).normalized
        )
    except EmailNotValidError:
        raise RuleViolation(
            ErrorCode.INVALID_EMAIL, "PREF-2", field=field, reason="FORMAT"
        ) from None


def check_contact(method: ContactMethod, email1: str | None, email2: str | None) -> None:
    """Contact by e-mail needs a registered address (PREF-3)."""
    if method is ContactMethod.EMAIL and not (email1 or email2):
        raise RuleViolation(ErrorCode.EMAIL_REQUIRED, "PREF-3", field="contactMethod")


def check_reminder_days(days: int) -> None:
    """Due-date reminders go 1 to 14 days before the due date (PREF-5)."""
    if days not in REMINDER_DAYS:
        raise RuleViolation(
            ErrorCode.INVALID_INPUT, "PREF-5", field="dueReminderDays", min=1, max=14
        )


def clean_terms(values: Sequence[str], field: str) -> list[str]:
    """New-arrival field terms: at most 10, each 1-50 printable characters, no repeats."""
    cleaned: list[str] = []
    for value in values:
        term = unicodedata.normalize("NFKC", value).strip()
        if not term or len(term) > MAX_FIELD_TEXT or not term.isprintable():
            raise RuleViolation(
                ErrorCode.INVALID_INPUT, "PREF-6", field=field, max_length=MAX_FIELD_TEXT
            )
        if term not in cleaned:
            cleaned.append(term)
    if len(cleaned) > MAX_FIELD_ITEMS:
        raise RuleViolation(
            ErrorCode.INVALID_INPUT, "PREF-6", field=field, max_items=MAX_FIELD_ITEMS
        )
    return cleaned


def _symbol(ch: str) -> bool:
    # So: emoji and other pictographs; C*: controls, format marks, private use, surrogates.
    category = unicodedata.category(ch)
    return category == "So" or category.startswith("C")


def clean_shelf_name(raw: str) -> str:
    """A bookshelf name: 1-30 characters of text (kana, kanji, letters, digits,
    punctuation, spaces), without emoji or control characters."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name or len(name) > MAX_SHELF_NAME or any(_symbol(ch) for ch in name):
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="name", max_length=MAX_SHELF_NAME)
    return name
