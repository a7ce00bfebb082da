"""Circulation rules: what may be held (HOLD-1..4, HOLD-11), hold limits per category
(HOLD-2), renewals (LOAN-2, LOAN-3), loan periods and limits (LOAN-5), pickup deadlines
(HOLD-8) and the multi-volume exception (HOLD-9).

Every function takes facts and answers; the resolvers gather the facts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from policies.calendar import IsOpen, first_open_day
from policies.config import CategoryLimits, CirculationPolicy
from policies.enums import HoldState, LibraryKind, MaterialType
from policies.errors import ErrorCode, RuleViolation

ACTIVE_HOLD_STATES = frozenset({HoldState.WAITING, HoldState.IN_TRANSIT, HoldState.READY})


class Category(StrEnum):
    """The limit categories of HOLD-2 (and of loans, LOAN-5)."""

    BOOKS_AND_MAGAZINES = "BOOKS_AND_MAGAZINES"
    CDS_AND_CASSETTES = "CDS_AND_CASSETTES"
    VIDEOS = "VIDEOS"


_CATEGORY = {
    MaterialType.BOOK: Category.BOOKS_AND_MAGAZINES,
    MaterialType.MAGAZINE: Category.BOOKS_AND_MAGAZINES,
    MaterialType.ART_REPRODUCTION: Category.BOOKS_AND_MAGAZINES,
    MaterialType.CD: Category.CDS_AND_CASSETTES,
    MaterialType.CASSETTE: Category.CDS_AND_CASSETTES,
    MaterialType.VIDEO: Category.VIDEOS,
}


def category(material: MaterialType) -> Category | None:
    """The limit category of a material; e-books have their own limits (EBOOK-2/3)."""
    return _CATEGORY.get(material)


def limit_for(limits: CategoryLimits, cat: Category) -> int:
    """The configured limit of one category."""
    return {
        Category.BOOKS_AND_MAGAZINES: limits.books_and_magazines,
        Category.CDS_AND_CASSETTES: limits.cds_and_cassettes,
        Category.VIDEOS: limits.videos,
    }[cat]


@dataclass(frozen=True, slots=True)
class CopyFacts:
    """What the hold rules need to know of one copy."""

    reference_only: bool
    from_other_city: bool
    withdrawn: bool = False


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """One title a patron asks to hold, with everything the rules look at."""

    material: MaterialType
    copies: tuple[CopyFacts, ...]
    already_held: bool
    on_loan_to_patron: bool


def check_holdable(material: MaterialType, copies: Iterable[CopyFacts]) -> None:
    """Only titles with a city-owned copy that may leave the library can be held
    (HOLD-1, HOLD-11); e-books are held through the e-book service (BASKET-3)."""
    if material is MaterialType.EBOOK:
        raise RuleViolation(ErrorCode.EBOOK_NOT_ALLOWED, "BASKET-3", variant="BASKET")
    if material is MaterialType.ART_REPRODUCTION:
        raise RuleViolation(ErrorCode.NOT_HOLDABLE, "HOLD-1", reason="ART_REPRODUCTION")
    usable = [c for c in copies if not c.withdrawn]
    if not any(not c.from_other_city for c in usable):
        raise RuleViolation(ErrorCode.NOT_HOLDABLE, "HOLD-11" if usable else "HOLD-1")
    if not any(not c.reference_only and not c.from_other_city for c in usable):
        raise RuleViolation(ErrorCode.NOT_HOLDABLE, "HOLD-1", reason="REFERENCE_ONLY")


def check_hold(request: HoldRequest, active_in_category: int, policy: CirculationPolicy) -> None:
    """Every per-title rule of placing a hold, in the order a patron would want to hear them."""
    check_holdable(request.material, request.copies)
    if request.already_held:
        raise RuleViolation(ErrorCode.ALREADY_HELD, "HOLD-4")
    if request.on_loan_to_patron:
        raise RuleViolation(ErrorCode.ALREADY_ON_LOAN, "HOLD-4")
    cat = category(request.material)
    if cat is not None:
        limit = limit_for(policy.hold_limits, cat)
        if active_in_category >= limit:
            raise RuleViolation(ErrorCode.HOLD_LIMIT, "HOLD-2", category=cat.value, limit=limit)


def check_modifiable(state: HoldState) -> None:
    """Only a WAITING hold can be cancelled, paused or moved by the patron (HOLD-6)."""
    if state is not HoldState.WAITING:
        raise RuleViolation(ErrorCode.HOLD_NOT_MODIFIABLE, "HOLD-6", state=state.value)


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """What the renewal rules need to know of one loan."""

    due_on: date
    renewals: int
    lent_at_kind: LibraryKind
    material: MaterialType
    from_other_city: bool
    held_by_others: bool


def renewal_refusal(
    loan: LoanFacts, today: date, policy: CirculationPolicy, new_due: date | None = None
) -> RuleViolation | None:
    """Why ``loan`` cannot be renewed today (LOAN-3), or ``None`` if it can (LOAN-2).

    ``new_due`` is the due date the renewal would set (``renewal_due_date``); when it does
    not move the due date later the renewal is refused without using it up (LOAN-6).
    """
    if loan.material is MaterialType.ART_REPRODUCTION:
        return RuleViolation(ErrorCode.ART_REPRODUCTION, "LOAN-3")
    if loan.lent_at_kind is LibraryKind.BOOKMOBILE:
        return RuleViolation(ErrorCode.BOOKMOBILE, "LOAN-3")
    if loan.from_other_city:
        return RuleViolation(ErrorCode.INTER_LIBRARY, "LOAN-3")
    if today > loan.due_on:
        return RuleViolation(ErrorCode.OVERDUE, "LOAN-3")
    if loan.renewals >= policy.max_renewals:
        return RuleViolation(ErrorCode.RENEWAL_LIMIT, "LOAN-3")
    if loan.held_by_others:
        return RuleViolation(ErrorCode.HELD_BY_OTHERS, "LOAN-3")
    if new_due is not None and new_due <= loan.due_on:
        return RuleViolation(ErrorCode.RENEWAL_NO_CHANGE, "LOAN-6", due_on=loan.due_on.isoformat())
    return None


def next_opening_day(day: date, is_open: IsOpen) -> date:
    """``day`` itself if the library is open then, else the next day it is (SVC-2); a
    library closed for a whole year keeps the nominal date rather than loop."""
    return first_open_day(day, is_open) or day


def _due(today: date, kind: LibraryKind, is_open: IsOpen, days: int, room_days: int) -> date:
    period = room_days if kind is LibraryKind.BRANCH_ROOM else days
    return next_opening_day(today + timedelta(days=period), is_open)


def loan_due_date(
    today: date, lent_at_kind: LibraryKind, is_open: IsOpen, policy: CirculationPolicy
) -> date:
    """Due date of a new loan: 15 days (14 at a branch room), on an opening day (LOAN-5)."""
    return _due(today, lent_at_kind, is_open, policy.loan_days, policy.loan_days_branch_room)


def renewal_due_date(
    today: date, lent_at_kind: LibraryKind, is_open: IsOpen, policy: CirculationPolicy
) -> date:
    """Due date after a renewal: the day of renewal + 15 (+14 for a branch room) (LOAN-2)."""
    return _due(today, lent_at_kind, is_open, policy.renewal_days, policy.renewal_days_branch_room)


def pickup_deadline(ready_on: date, is_open: IsOpen, policy: CirculationPolicy) -> date:
    """Last day a ready hold is kept: N days on, moved to the pickup library's next opening
    day when that day is closed (HOLD-8)."""
    return next_opening_day(ready_on + timedelta(days=policy.pickup_days), is_open)


def check_loan_limit(
    material: MaterialType, open_in_category: int, policy: CirculationPolicy
) -> None:
    """Loans have the same per-category limits as holds, counted separately (HOLD-2, LOAN-5)."""
    cat = category(material)
    if cat is not None:
        limit = limit_for(policy.loan_limits, cat)
        if open_in_category >= limit:
            raise RuleViolation(ErrorCode.LOAN_LIMIT, "LOAN-5", category=cat.value, limit=limit)


_VOLUME_WORDS = {"上": 1, "中": 2, "下": 3, "前": 1, "後": 2, "前編": 1, "中編": 2, "後編": 3}


def volume_rank(volume: str | None) -> int | None:
    """Order of a volume within its set: 上・中・下, 前・後, or a number; ``None`` if unknown."""
    if not volume:
        return None
    text = unicodedata.normalize("NFKC", volume).strip().removesuffix("巻").strip()
    if text in _VOLUME_WORDS:
        return _VOLUME_WORDS[text]
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits and len(digits) <= 6 else None


@dataclass(frozen=True, slots=True)
class VolumeHold:
    """One of a patron's holds on a multi-volume set, for HOLD-9."""

    series: str
    rank: int
    state: HoldState


def kept_for_earlier_volume(
    series: str | None,
    volume: str | None,
    is_comic: bool,
    others: Iterable[VolumeHold],
) -> bool:
    """A ready later volume is kept past its deadline while an earlier volume the same
    patron holds is not yet ready (HOLD-9). Comics are excepted."""
    rank = volume_rank(volume)
    if series is None or rank is None or is_comic:
        return False
    return any(
        o.series == series
        and o.rank < rank
        and o.state in (HoldState.WAITING, HoldState.IN_TRANSIT)
        for o in others
    )
