"""Card state rules: expiry (CARD-1) and the overdue blocks (CARD-2, CARD-3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from policies.config import CirculationPolicy
from policies.errors import ErrorCode, RuleViolation


def check_card_valid(expires_on: date, today: date) -> None:
    """An expired card places no holds (CARD-1). The card is good through its expiry day."""
    if today > expires_on:
        raise RuleViolation(ErrorCode.CARD_EXPIRED, "CARD-1", expired_on=expires_on.isoformat())


def days_overdue(due_on: date, today: date) -> int:
    """Library days late; 0 when not yet overdue."""
    return max(0, (today - due_on).days)


def check_may_place_holds(due_dates: Iterable[date], today: date) -> None:
    """Any overdue loan refuses new web holds (CARD-2)."""
    worst = max((days_overdue(d, today) for d in due_dates), default=0)
    if worst > 0:
        raise RuleViolation(ErrorCode.OVERDUE_BLOCK, "CARD-2", days_overdue=worst)


def _check_grace(
    due_dates: Iterable[date], today: date, policy: CirculationPolicy, **params: str
) -> None:
    worst = max((days_overdue(d, today) for d in due_dates), default=0)
    if worst > policy.overdue_block_days:
        raise RuleViolation(ErrorCode.OVERDUE_BLOCK, "CARD-3", days_overdue=worst, **params)


def check_may_collect_holds(
    due_dates: Iterable[date], today: date, policy: CirculationPolicy
) -> None:
    """A loan more than N days late blocks collecting ready holds too (CARD-3); the
    ``variant`` lets the message speak of collecting (受取), not of placing holds."""
    _check_grace(due_dates, today, policy, variant="COLLECT")


def check_hold_blocks(due_dates: Iterable[date], today: date, policy: CirculationPolicy) -> None:
    """Both overdue blocks on placing holds, naming CARD-3 when it is the stronger one."""
    dues = list(due_dates)
    _check_grace(dues, today, policy)
    check_may_place_holds(dues, today)
