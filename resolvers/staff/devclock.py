"""The development clock and running a scheduled scan now: tools for testers of the front
ends and of a staging library. Refused outright in production (``DEV_CLOCK_DISABLED``).

The offset lives in the database (``dev_clock``) so the API and every worker see one "now";
this process also keeps it in its :class:`ShiftedClock` for the policies it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import DevClockRow
from policies.clock import ShiftedClock, library_today
from policies.config import PolicyConfig
from policies.errors import ErrorCode, RuleViolation
from resolvers.circulation.expiry import expire_ready_holds
from resolvers.circulation.new_arrivals import queue_new_arrivals
from resolvers.circulation.notices import queue_due_reminders, queue_overdue_notices
from resolvers.ebooks import ebooks
from resolvers.shared.context import Context

MAX_SHIFT = timedelta(days=3660)  # ten years either way: enough for any rule


class ScheduledScan(StrEnum):
    """The workers' scheduled scans that a tester may run at once."""

    HOLD_EXPIRY = "HOLD_EXPIRY"
    DUE_REMINDERS = "DUE_REMINDERS"
    OVERDUE_NOTICES = "OVERDUE_NOTICES"
    NEW_ARRIVALS = "NEW_ARRIVALS"
    EBOOK_SWEEP = "EBOOK_SWEEP"


async def load_offset(sessions: async_sessionmaker[AsyncSession]) -> timedelta:
    """The stored offset; none stored (or no table yet) is no shift."""
    try:
        async with sessions() as db:
            seconds = await db.scalar(select(DevClockRow.offset_seconds).where(DevClockRow.id == 1))
    except SQLAlchemyError:
        return timedelta(0)
    return timedelta(seconds=seconds or 0)


async def store_offset(
    sessions: async_sessionmaker[AsyncSession], offset: timedelta, at: datetime
) -> None:
    """Write the offset for every process to read."""
    async with sessions() as db, db.begin():
        row = await db.get(DevClockRow, 1, with_for_update=True)
        if row is None:
            db.add(DevClockRow(id=1, offset_seconds=int(offset.total_seconds()), set_at=at))
        else:
            row.offset_seconds = int(offset.total_seconds())
            row.set_at = at


async def start(
    sessions: async_sessionmaker[AsyncSession], clock: ShiftedClock, dev_now: datetime | None
) -> None:
    """At API start: ``HONDANA_DEV_NOW`` sets the shared offset; otherwise take the stored one."""
    if dev_now is not None:
        if dev_now.tzinfo is None:
            raise ValueError("HONDANA_DEV_NOW must carry a time zone, e.g. 2026-12-01T09:00+09:00")
        clock.offset = dev_now - clock.real_now()
        await store_offset(sessions, clock.offset, datetime.now(UTC))
    else:
        clock.offset = await load_offset(sessions)


def _clock(ctx: Context) -> ShiftedClock:
    clock = ctx.services.clock
    if ctx.services.production or not isinstance(clock, ShiftedClock):
        raise RuleViolation(ErrorCode.DEV_CLOCK_DISABLED)
    return clock


async def shift(
    ctx: Context, *, now: datetime | None = None, by: timedelta | None = None
) -> datetime:
    """Set the development clock to ``now``, move it ``by``, or (neither) back to real time;
    answers the new "now"."""
    clock = _clock(ctx)
    if now is not None and now.tzinfo is None:
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="now")
    clock.offset = await load_offset(ctx.services.sessions)  # another process may have moved it
    if now is not None:
        offset = now - clock.real_now()
    elif by is not None:
        offset = clock.offset + by
    else:
        offset = timedelta(0)
    if abs(offset) > MAX_SHIFT:
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="now" if now else "days")
    await store_offset(ctx.services.sessions, offset, datetime.now(UTC))
    clock.offset = offset
    return clock.now()


Scan = Callable[
    [async_sessionmaker[AsyncSession], PolicyConfig, datetime, date], Coroutine[Any, Any, Any]
]


async def _ebook_sweep(
    sessions: async_sessionmaker[AsyncSession], policy: PolicyConfig, now: datetime, _: date
) -> tuple[int, int]:
    return await ebooks.sweep(sessions, policy, now)


SCANS: dict[ScheduledScan, Scan] = {
    ScheduledScan.HOLD_EXPIRY: expire_ready_holds,
    ScheduledScan.DUE_REMINDERS: queue_due_reminders,
    ScheduledScan.OVERDUE_NOTICES: queue_overdue_notices,
    ScheduledScan.NEW_ARRIVALS: queue_new_arrivals,
    ScheduledScan.EBOOK_SWEEP: _ebook_sweep,
}


async def run_scan(ctx: Context, scan: ScheduledScan) -> str:
    """Run one scheduled scan now, at the (development) clock's time, then wake the mail
    dispatcher for what it queued; answers a short account of what it did."""
    clock = _clock(ctx)
    clock.offset = await load_offset(ctx.services.sessions)
    now = clock.now()
    today = library_today(now, ctx.policy.service.timezone)
    done = await SCANS[scan](ctx.services.sessions, ctx.policy, now, today)
    await ctx.services.nudge()
    return str(done)
