"""Card state rules as pure functions: expiry (CARD-1) and the overdue blocks (CARD-2,
CARD-3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from policies.cards import (
    check_card_valid,
    check_hold_blocks,
    check_may_collect_holds,
    check_may_place_holds,
    days_overdue,
)
from policies.config import CirculationPolicy
from policies.errors import ErrorCode, RuleViolation

TODAY = date(2026, 11, 30)  # a Monday
POLICY = CirculationPolicy()


def _days(n: int) -> date:
    """The due date of a loan ``n`` days overdue today (negative: due in the future)."""
    return TODAY - timedelta(days=n)


# --- CARD-1 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_on",
    [TODAY, TODAY + timedelta(days=1), date(2030, 3, 31)],
)
def test_card_valid_through_expiry_day(expires_on: date) -> None:
    # CARD-1: the card is good through its expiry day itself.
    check_card_valid(expires_on, TODAY)


@pytest.mark.parametrize(
    "expires_on",
    [TODAY - timedelta(days=1), TODAY - timedelta(days=365), date(2000, 1, 1)],
)
def test_expired_card_refused(expires_on: date) -> None:
    # CARD-1: from the day after expiry, holds are refused.
    with pytest.raises(RuleViolation) as refused:
        check_card_valid(expires_on, TODAY)
    assert (refused.value.code, refused.value.rule) == (ErrorCode.CARD_EXPIRED, "CARD-1")
    assert refused.value.params == {"expired_on": expires_on.isoformat()}


# --- CARD-2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_on", "late"),
    [(_days(-3), 0), (_days(0), 0), (_days(1), 1), (_days(5), 5), (_days(40), 40)],
)
def test_days_overdue(due_on: date, late: int) -> None:
    # CARD-2: a loan due today is not overdue; the day after, it is one day late.
    assert days_overdue(due_on, TODAY) == late


@pytest.mark.parametrize(
    "due_dates",
    [
        [],
        [_days(0)],
        [_days(-14)],
        [_days(0), _days(-1), _days(-14)],
    ],
)
def test_may_place_holds_when_nothing_overdue(due_dates: list[date]) -> None:
    # CARD-2: no loans, or loans due today or later, place holds freely.
    check_may_place_holds(due_dates, TODAY)


@pytest.mark.parametrize(
    ("due_dates", "worst"),
    [
        ([_days(1)], 1),
        ([_days(-5), _days(1)], 1),
        ([_days(0), _days(3), _days(2)], 3),
        ([_days(30)], 30),
    ],
)
def test_any_overdue_loan_blocks_holds(due_dates: list[date], worst: int) -> None:
    # CARD-2: one day overdue is enough to refuse new holds.
    with pytest.raises(RuleViolation) as refused:
        check_may_place_holds(due_dates, TODAY)
    assert (refused.value.code, refused.value.rule) == (ErrorCode.OVERDUE_BLOCK, "CARD-2")
    assert refused.value.params == {"days_overdue": worst}


def test_may_place_holds_takes_any_iterable() -> None:
    # CARD-2: a generator of due dates is read once and judged the same.
    with pytest.raises(RuleViolation):
        check_may_place_holds((d for d in [_days(0), _days(2)]), TODAY)


# --- CARD-3 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "due_dates",
    [[], [_days(-3)], [_days(0)], [_days(1)], [_days(4)], [_days(4), _days(2), _days(-1)]],
)
def test_may_collect_holds_up_to_four_days_overdue(due_dates: list[date]) -> None:
    # CARD-3: up to 4 days past the due date, ready holds can still be collected.
    check_may_collect_holds(due_dates, TODAY, POLICY)


@pytest.mark.parametrize(
    ("due_dates", "worst"),
    [([_days(5)], 5), ([_days(1), _days(5)], 5), ([_days(60), _days(0)], 60)],
)
def test_more_than_four_days_overdue_blocks_collecting(due_dates: list[date], worst: int) -> None:
    # CARD-3: more than 4 days past the due date blocks collecting ready holds; the
    # variant words it as a block on collecting (受取), not on placing holds.
    with pytest.raises(RuleViolation) as refused:
        check_may_collect_holds(due_dates, TODAY, POLICY)
    assert (refused.value.code, refused.value.rule) == (ErrorCode.OVERDUE_BLOCK, "CARD-3")
    assert refused.value.params == {"days_overdue": worst, "variant": "COLLECT"}


@pytest.mark.parametrize(
    ("block_days", "late", "blocked"),
    [
        (0, 1, True),
        (1, 1, False),
        (1, 2, True),
        (10, 5, False),
        (10, 10, False),
        (10, 11, True),
    ],
)
def test_collect_block_days_come_from_policy(block_days: int, late: int, blocked: bool) -> None:
    # CARD-3: the 4 days are a default; the configured value is honoured.
    policy = CirculationPolicy(overdue_block_days=block_days)
    if blocked:
        with pytest.raises(RuleViolation) as refused:
            check_may_collect_holds([_days(late)], TODAY, policy)
        assert refused.value.rule == "CARD-3"
    else:
        check_may_collect_holds([_days(late)], TODAY, policy)


# --- CARD-2 and CARD-3 together on placing holds ---------------------------------------------


@pytest.mark.parametrize(
    ("late", "rule"),
    [
        (None, None),
        (-2, None),
        (0, None),
        (1, "CARD-2"),
        (2, "CARD-2"),
        (4, "CARD-2"),
        (5, "CARD-3"),
        (15, "CARD-3"),
    ],
)
def test_hold_blocks_name_the_stronger_rule(late: int | None, rule: str | None) -> None:
    # CARD-2 (1..4 days overdue), CARD-3 (more than 4 days)
    due_dates = [] if late is None else [_days(late)]
    if rule is None:
        check_hold_blocks(due_dates, TODAY, POLICY)
        return
    with pytest.raises(RuleViolation) as refused:
        check_hold_blocks(due_dates, TODAY, POLICY)
    assert (refused.value.code, refused.value.rule) == (ErrorCode.OVERDUE_BLOCK, rule)
    assert refused.value.params == {"days_overdue": late}


def test_hold_blocks_use_the_worst_loan() -> None:
    # CARD-3: one loan 1 day late and one 6 days late: the 6 days decide.
    with pytest.raises(RuleViolation) as refused:
        check_hold_blocks(iter([_days(1), _days(6), _days(-3)]), TODAY, POLICY)
    assert refused.value.rule == "CARD-3"
    assert refused.value.params == {"days_overdue": 6}


def test_hold_blocks_follow_policy() -> None:
    # CARD-3: with a 10-day block, 6 days overdue is CARD-2, not CARD-3.
    with pytest.raises(RuleViolation) as refused:
        check_hold_blocks([_days(6)], TODAY, CirculationPolicy(overdue_block_days=10))
    assert refused.value.rule == "CARD-2"
