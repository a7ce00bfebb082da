"""E-book rules as pure functions (EBOOK-1..4)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from policies.config import EbookPolicy
from policies.ebooks import (
    check_borrow,
    check_ebook_patron,
    check_hold,
    ebook_hold_kept_until,
    free_licences,
)
from policies.enums import CardKind, PasswordState
from policies.errors import ErrorCode, RuleViolation

TODAY = date(2026, 11, 30)
POLICY = EbookPolicy()


def _code(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except RuleViolation as no:
        return no.code
    return None


@pytest.mark.parametrize(
    ("state", "kind", "birth", "expected"),
    [
        (PasswordState.ACTIVE, CardKind.CITY, date(1990, 1, 1), None),
        (PasswordState.TEMPORARY, CardKind.CITY, date(1990, 1, 1), ErrorCode.EBOOK_NOT_ALLOWED),
        (PasswordState.ACTIVE, CardKind.WIDE_AREA, date(1990, 1, 1), ErrorCode.EBOOK_NOT_ALLOWED),
        (PasswordState.ACTIVE, CardKind.CITY, date(2021, 1, 1), ErrorCode.EBOOK_NOT_ALLOWED),
        (PasswordState.ACTIVE, CardKind.CITY, date(2019, 4, 1), None),  # first-year pupil
    ],
)
def test_who_may_use_ebooks(
    state: PasswordState, kind: CardKind, birth: date, expected: ErrorCode | None
) -> None:
    # EBOOK-1
    assert _code(check_ebook_patron, state, kind, birth, TODAY) is expected


def test_loans_holds_and_licences() -> None:
    # EBOOK-2, EBOOK-3, EBOOK-4
    assert (
        free_licences(3, 2, 1) == 0 and free_licences(3, 1, 0) == 2 and free_licences(1, 2, 0) == 0
    )
    assert _code(check_borrow, 3, 1, POLICY, kept_for_me=False) is ErrorCode.EBOOK_LOAN_LIMIT
    assert _code(check_borrow, 0, 0, POLICY, kept_for_me=False) is ErrorCode.EBOOK_UNAVAILABLE
    assert _code(check_borrow, 0, 0, POLICY, kept_for_me=True) is None
    assert _code(check_hold, 3, False, 0, POLICY) is ErrorCode.EBOOK_HOLD_LIMIT
    assert _code(check_hold, 0, True, 0, POLICY) is ErrorCode.ALREADY_HELD
    assert _code(check_hold, 0, False, 1, POLICY) is ErrorCode.EBOOK_AVAILABLE
    assert _code(check_hold, 2, False, 0, EbookPolicy(max_holds=5)) is None


def test_secured_hold_is_kept_to_the_end_of_the_stated_day() -> None:
    """EBOOK-3: 「予約確保後、1週間取り置きます。」 A hold secured at 22:30 JST on 11-30 is kept
    through 12-07 (the date its mail states) until midnight JST, not until 22:30."""
    secured = datetime(2026, 11, 30, 13, 30, tzinfo=UTC)  # 22:30 JST
    kept = ebook_hold_kept_until(secured, "Asia/Tokyo", 7)
    assert kept.last_day == date(2026, 12, 7)
    assert kept.ends_at == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 12-08 00:00 JST
    early = ebook_hold_kept_until(datetime(2026, 11, 30, 15, 30, tzinfo=UTC), "Asia/Tokyo", 7)
    assert early.last_day == date(2026, 12, 8)  # 00:30 JST on 12-01 is the 12-01 library day
