"""The circulation policy configuration: every limit and period the rules mention.

Values marked *(default)* in RULES.md are the library's to change; they live here as data,
filled from settings (``HONDANA_POLICY__...`` environment variables), never as literals in
rule code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time


@dataclass(frozen=True, slots=True)
class CategoryLimits:
    """Active holds (or loans) per category (HOLD-2)."""

    books_and_magazines: int = 20
    cds_and_cassettes: int = 8
    videos: int = 4


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """Sessions and login throttling (AUTH-10, AUTH-11)."""

    session_idle_minutes: int = 15
    session_absolute_hours: int = 12
    lockout_failures: int = 5
    lockout_window_minutes: int = 15
    lockout_minutes: int = 15


@dataclass(frozen=True, slots=True)
class CirculationPolicy:
    """Limits and periods of holds, loans and renewals."""

    hold_limits: CategoryLimits = field(default_factory=CategoryLimits)
    loan_limits: CategoryLimits = field(default_factory=CategoryLimits)
    basket_max: int = 100
    bookshelves_max: int = 5
    bookshelf_size: int = 100
    card_valid_years: int = 3
    overdue_block_days: int = 4
    loan_days: int = 15
    loan_days_branch_room: int = 14
    renewal_days: int = 15
    renewal_days_branch_room: int = 14
    max_renewals: int = 1
    pickup_days: int = 7
    due_reminder_days: int = 2
    overdue_notice_after_days: int = 7
    overdue_notice_every_days: int = 14


@dataclass(frozen=True, slots=True)
class EbookPolicy:
    """E-book limits and periods (EBOOK-2, EBOOK-3)."""

    max_loans: int = 3
    loan_days: int = 15
    max_holds: int = 3
    hold_keep_days: int = 7


@dataclass(frozen=True, slots=True)
class ServicePolicy:
    """Service hours (SVC-1, SVC-2)."""

    timezone: str = "Asia/Tokyo"
    maintenance_start: time = time(3, 50)
    maintenance_end: time = time(4, 20)


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """All policy values in one immutable object, handed to every rule that needs one."""

    accounts: AccountPolicy = field(default_factory=AccountPolicy)
    circulation: CirculationPolicy = field(default_factory=CirculationPolicy)
    ebooks: EbookPolicy = field(default_factory=EbookPolicy)
    service: ServicePolicy = field(default_factory=ServicePolicy)
