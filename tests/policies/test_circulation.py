"""Circulation rules as pure functions, table by table (HOLD-1, HOLD-2, HOLD-4, HOLD-6,
HOLD-8, HOLD-9, HOLD-11, LOAN-2, LOAN-3, LOAN-5)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from policies.circulation import (
    Category,
    CopyFacts,
    HoldRequest,
    LoanFacts,
    VolumeHold,
    category,
    check_hold,
    check_holdable,
    check_loan_limit,
    check_modifiable,
    kept_for_earlier_volume,
    loan_due_date,
    pickup_deadline,
    renewal_due_date,
    renewal_refusal,
    volume_rank,
)
from policies.config import CategoryLimits, CirculationPolicy
from policies.enums import HoldState, LibraryKind, MaterialType
from policies.errors import ErrorCode, RuleViolation

POLICY = CirculationPolicy()
SHELF = CopyFacts(reference_only=False, from_other_city=False)
REFERENCE = CopyFacts(reference_only=True, from_other_city=False)
BORROWED = CopyFacts(reference_only=False, from_other_city=True)
TODAY = date(2026, 11, 30)  # a Monday
ALWAYS_OPEN = lambda day: True  # noqa: E731


def _code(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except RuleViolation as no:
        return no.code, no.rule
    return None


@pytest.mark.parametrize(
    ("material", "copies", "expected"),
    [
        (MaterialType.BOOK, (SHELF,), None),
        (MaterialType.BOOK, (REFERENCE, SHELF), None),
        (MaterialType.BOOK, (REFERENCE,), (ErrorCode.NOT_HOLDABLE, "HOLD-1")),
        (MaterialType.BOOK, (), (ErrorCode.NOT_HOLDABLE, "HOLD-1")),
        (MaterialType.BOOK, (BORROWED,), (ErrorCode.NOT_HOLDABLE, "HOLD-11")),
        (
            MaterialType.BOOK,
            (CopyFacts(False, False, withdrawn=True),),
            (ErrorCode.NOT_HOLDABLE, "HOLD-1"),
        ),
        (MaterialType.ART_REPRODUCTION, (SHELF,), (ErrorCode.NOT_HOLDABLE, "HOLD-1")),
        (MaterialType.EBOOK, (SHELF,), (ErrorCode.EBOOK_NOT_ALLOWED, "BASKET-3")),
        (MaterialType.VIDEO, (SHELF,), None),
    ],
)
def test_what_can_be_held(
    material: MaterialType, copies: tuple[CopyFacts, ...], expected: object
) -> None:
    # HOLD-1, HOLD-11: a city-owned copy that may leave the library; no art reproductions.
    assert _code(check_holdable, material, copies) == expected


@pytest.mark.parametrize(
    ("material", "active", "ok"),
    [
        (MaterialType.BOOK, 19, True),
        (MaterialType.BOOK, 20, False),
        (MaterialType.MAGAZINE, 20, False),
        (MaterialType.CD, 7, True),
        (MaterialType.CD, 8, False),
        (MaterialType.CASSETTE, 8, False),
        (MaterialType.VIDEO, 3, True),
        (MaterialType.VIDEO, 4, False),
    ],
)
def test_hold_limits(material: MaterialType, active: int, ok: bool) -> None:
    # HOLD-2: books and magazines 20, CDs and cassettes 8, videos 4.
    request = HoldRequest(material, (SHELF,), already_held=False, on_loan_to_patron=False)
    result = _code(check_hold, request, active, POLICY)
    assert result == (None if ok else (ErrorCode.HOLD_LIMIT, "HOLD-2"))


def test_categories_and_configured_limits() -> None:
    # HOLD-2: categories pair books with magazines and CDs with cassettes; numbers are config.
    assert category(MaterialType.MAGAZINE) is Category.BOOKS_AND_MAGAZINES
    assert category(MaterialType.CASSETTE) is Category.CDS_AND_CASSETTES
    assert category(MaterialType.EBOOK) is None
    strict = CirculationPolicy(hold_limits=CategoryLimits(books_and_magazines=2))
    request = HoldRequest(MaterialType.BOOK, (SHELF,), already_held=False, on_loan_to_patron=False)
    assert _code(check_hold, request, 2, strict) == (ErrorCode.HOLD_LIMIT, "HOLD-2")


@pytest.mark.parametrize(
    ("held", "on_loan", "expected"),
    [
        (True, False, ErrorCode.ALREADY_HELD),
        (False, True, ErrorCode.ALREADY_ON_LOAN),
        (True, True, ErrorCode.ALREADY_HELD),
    ],
)
def test_no_double_holds(held: bool, on_loan: bool, expected: ErrorCode) -> None:
    # HOLD-4: not the same title twice, not a title on loan to the patron.
    request = HoldRequest(MaterialType.BOOK, (SHELF,), already_held=held, on_loan_to_patron=on_loan)
    assert _code(check_hold, request, 0, POLICY) == (expected, "HOLD-4")


@pytest.mark.parametrize("state", list(HoldState))
def test_only_waiting_holds_are_modifiable(state: HoldState) -> None:
    # HOLD-6: only WAITING holds can be cancelled or changed by the patron.
    expected = None if state is HoldState.WAITING else (ErrorCode.HOLD_NOT_MODIFIABLE, "HOLD-6")
    assert _code(check_modifiable, state) == expected


def _loan(**kw: object) -> LoanFacts:
    base: dict[str, object] = {
        "due_on": TODAY + timedelta(days=3),
        "renewals": 0,
        "lent_at_kind": LibraryKind.CENTRAL,
        "material": MaterialType.BOOK,
        "from_other_city": False,
        "held_by_others": False,
    }
    base.update(kw)
    return LoanFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (_loan(), None),
        (_loan(due_on=TODAY), None),
        (_loan(held_by_others=True), ErrorCode.HELD_BY_OTHERS),
        (_loan(due_on=TODAY - timedelta(days=1)), ErrorCode.OVERDUE),
        (_loan(renewals=1), ErrorCode.RENEWAL_LIMIT),
        (_loan(lent_at_kind=LibraryKind.BOOKMOBILE), ErrorCode.BOOKMOBILE),
        (_loan(material=MaterialType.ART_REPRODUCTION), ErrorCode.ART_REPRODUCTION),
        (_loan(from_other_city=True), ErrorCode.INTER_LIBRARY),
        (_loan(lent_at_kind=LibraryKind.BRANCH_ROOM), None),
    ],
)
def test_renewal_refusals(facts: LoanFacts, expected: ErrorCode | None) -> None:
    # LOAN-3: never renewable: held, overdue, renewed once, bookmobile, art, inter-library.
    refusal = renewal_refusal(facts, TODAY, POLICY)
    assert (refusal.code if refusal else None) == expected
    if refusal:
        assert refusal.rule == "LOAN-3"


def test_renewal_and_loan_periods() -> None:
    # LOAN-2 / LOAN-5: 15 days (14 at a branch room) from today, moved past closed days.
    assert renewal_due_date(TODAY, LibraryKind.CENTRAL, ALWAYS_OPEN, POLICY) == TODAY + timedelta(
        days=15
    )
    assert renewal_due_date(
        TODAY, LibraryKind.BRANCH_ROOM, ALWAYS_OPEN, POLICY
    ) == TODAY + timedelta(days=14)
    assert loan_due_date(TODAY, LibraryKind.CENTRAL, ALWAYS_OPEN, POLICY) == TODAY + timedelta(
        days=15
    )
    closed_on_the_15th = lambda day: day != TODAY + timedelta(days=15)  # noqa: E731
    assert loan_due_date(
        TODAY, LibraryKind.CENTRAL, closed_on_the_15th, POLICY
    ) == TODAY + timedelta(days=16)
    longer = CirculationPolicy(renewal_days=21)
    assert renewal_due_date(TODAY, LibraryKind.CENTRAL, ALWAYS_OPEN, longer) == TODAY + timedelta(
        days=21
    )


def test_pickup_deadline_moves_to_next_opening_day() -> None:
    # HOLD-8: 7 days, moved to the next opening day when that day is closed.
    assert pickup_deadline(TODAY, ALWAYS_OPEN, POLICY) == TODAY + timedelta(days=7)
    closed_two_days = lambda day: day not in {TODAY + timedelta(days=7), TODAY + timedelta(days=8)}  # noqa: E731
    assert pickup_deadline(TODAY, closed_two_days, POLICY) == TODAY + timedelta(days=9)


def test_loan_limits() -> None:
    # LOAN-5: loans have the per-category limits too, with their own code.
    assert _code(check_loan_limit, MaterialType.VIDEO, 3, POLICY) is None
    assert _code(check_loan_limit, MaterialType.VIDEO, 4, POLICY) == (
        ErrorCode.LOAN_LIMIT,
        "LOAN-5",
    )


@pytest.mark.parametrize(
    ("volume", "rank"),
    [
        ("上", 1),
        ("中", 2),
        ("下", 3),
        ("下巻", 3),
        ("前編", 1),
        ("後編", 3),
        ("3", 3),
        ("第２巻", 2),
        ("v. 12", 12),
        ("", None),
        (None, None),
        ("別冊", None),
    ],
)
def test_volume_rank(volume: str | None, rank: int | None) -> None:
    # HOLD-9: volumes of a set are ordered 上・中・下, 前・後 or by number.
    assert volume_rank(volume) == rank


@pytest.mark.parametrize(
    ("volume", "comic", "others", "kept"),
    [
        ("下", False, [VolumeHold("S", 1, HoldState.WAITING)], True),
        ("下", False, [VolumeHold("S", 1, HoldState.IN_TRANSIT)], True),
        ("下", False, [VolumeHold("S", 1, HoldState.READY)], False),
        ("下", False, [VolumeHold("S", 1, HoldState.COLLECTED)], False),
        ("上", False, [VolumeHold("S", 3, HoldState.WAITING)], False),
        ("下", True, [VolumeHold("S", 1, HoldState.WAITING)], False),
        ("下", False, [VolumeHold("other", 1, HoldState.WAITING)], False),
    ],
)
def test_later_volume_kept_for_earlier(
    volume: str, comic: bool, others: list[VolumeHold], kept: bool
) -> None:
    # HOLD-9: a later volume is kept while an earlier one is not ready; comics excepted.
    assert kept_for_earlier_volume("S", volume, comic, others) is kept


def test_renewal_that_would_not_move_the_due_date_is_refused() -> None:
    """LOAN-6, from the guide's 「延長期間は、手続きをした日から15日間(分室は14日間)です。
    予約がなく、返却期限が過ぎていない場合、1回に限り延長ができます。」: a renewal on the day
    of the checkout sets the same date, so it is refused and the one renewal stays unused."""
    checked_out_today = _loan(due_on=TODAY + timedelta(days=15))
    same = renewal_due_date(TODAY, LibraryKind.CENTRAL, ALWAYS_OPEN, POLICY)
    refusal = renewal_refusal(checked_out_today, TODAY, POLICY, same)
    assert refusal is not None
    assert (refusal.code, refusal.rule) == (ErrorCode.RENEWAL_NO_CHANGE, "LOAN-6")
    # One day later the same loan moves by a day: renewable.
    later = renewal_due_date(TODAY + timedelta(days=1), LibraryKind.CENTRAL, ALWAYS_OPEN, POLICY)
    assert renewal_refusal(checked_out_today, TODAY + timedelta(days=1), POLICY, later) is None
    # The other refusals still come first (LOAN-3 before LOAN-6).
    renewed = _loan(due_on=TODAY + timedelta(days=15), renewals=1)
    refused = renewal_refusal(renewed, TODAY, POLICY, same)
    assert refused is not None and refused.code is ErrorCode.RENEWAL_LIMIT
