"""E-book rules as pure functions (EBOOK-1..4)."""

from __future__ import annotations

from datetime import date

import pytest

from policies.config import EbookPolicy
from policies.ebooks import check_borrow, check_ebook_patron, check_hold, free_licences
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
