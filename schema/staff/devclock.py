"""Development tools for testers (staff ADMIN role, never in production): the development
clock and running a scheduled scan now."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import strawberry
from strawberry.types import Info

from policies.enums import StaffRole as Role
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared.context import Context
from resolvers.staff import devclock
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import StaffOnly, guard

ADMIN = guard(StaffOnly(Role.ADMIN))
ScheduledScan = strawberry.enum(
    devclock.ScheduledScan,
    description="A scheduled scan of the workers: hold expiry (HOLD-8/9), due-date reminders "
    "(MAIL-2), overdue notices (MAIL-3), weekly new arrivals (MAIL-4), e-book returns and "
    "hold expiry (EBOOK-2/3).",
)


@strawberry.type(description="The development clock after a change.")
class DevClockPayload:
    now: datetime | None = strawberry.field(
        description='"Now" for every rule, scan and mail (API and workers alike).'
    )
    errors: list[UserError] = strawberry.field(
        description="`DEV_CLOCK_DISABLED` (production), `INVALID_INPUT` (a time without a zone, "
        "or more than ten years away)."
    )


@strawberry.type(description="The result of `runScheduledScan`.")
class ScanPayload:
    scan: ScheduledScan | None = strawberry.field(description="The scan that ran.")  # type: ignore[valid-type]
    now: datetime | None = strawberry.field(description="The time it ran at.")
    outcome: str | None = strawberry.field(
        description="What it did, as the scan reports it (a count or counts)."
    )
    errors: list[UserError] = strawberry.field(description="`DEV_CLOCK_DISABLED` (production).")


async def _shift(info: Info[Context, Any], **how: Any) -> DevClockPayload:
    try:
        now = await devclock.shift(info.context, **how)
    except RuleViolation as no:
        return DevClockPayload(now=None, errors=user_errors([no], info.context.locale))
    return DevClockPayload(now=now, errors=[])


@strawberry.type
class DevClockMutations:
    @strawberry.mutation(
        description="Development only (ADMIN): set the clock every rule, scan and mail uses to "
        "`now` (it keeps running from there). Refused in production.",
        extensions=ADMIN,
    )
    async def set_dev_clock(self, info: Info[Context, Any], now: datetime) -> DevClockPayload:
        return await _shift(info, now=now)

    @strawberry.mutation(
        description="Development only (ADMIN): move the clock forward (or back, negative) by "
        "days and hours. Refused in production.",
        extensions=ADMIN,
    )
    async def advance_dev_clock(
        self, info: Info[Context, Any], days: int, hours: int = 0
    ) -> DevClockPayload:
        if abs(days) > 3660 or abs(hours) > 24 * 3660:  # before timedelta can overflow
            bad = RuleViolation(ErrorCode.INVALID_INPUT, field="days")
            return DevClockPayload(now=None, errors=user_errors([bad], info.context.locale))
        return await _shift(info, by=timedelta(days=days, hours=hours))

    @strawberry.mutation(
        description="Development only (ADMIN): back to the real time. Refused in production.",
        extensions=ADMIN,
    )
    async def reset_dev_clock(self, info: Info[Context, Any]) -> DevClockPayload:
        return await _shift(info)

    @strawberry.mutation(
        description="Development only (ADMIN): run a scheduled scan now, at the development "
        "clock's time, and wake the mail dispatcher for what it queued. Refused in production.",
        extensions=ADMIN,
    )
    async def run_scheduled_scan(
        self,
        info: Info[Context, Any],
        scan: ScheduledScan,  # type: ignore[valid-type]
    ) -> ScanPayload:
        try:
            chosen = devclock.ScheduledScan(scan)
            outcome = await devclock.run_scan(info.context, chosen)
        except RuleViolation as no:
            errors = user_errors([no], info.context.locale)
            return ScanPayload(scan=None, now=None, outcome=None, errors=errors)
        now = info.context.services.clock.now()
        return ScanPayload(scan=chosen, now=now, outcome=outcome, errors=[])
