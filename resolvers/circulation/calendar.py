"""Library calendars as the circulation rules use them: "is this library open that day?"
(SVC-2), and the staff's keeping of them (STAFF-1)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarDay, Library
from policies.calendar import MAX_CALENDAR_SPAN_DAYS, IsOpen, is_open, parse_closed_weekdays
from policies.circulation import next_opening_day
from policies.errors import ErrorCode, RuleViolation

# Mails owed "on the next opening day" go out from this local time on that day (MAIL-1).
MAIL_HOUR = time(9, 0)


async def opening_test(db: AsyncSession, library: Library, today: date) -> IsOpen:
    """A function telling whether ``library`` is open on a day, from ``today`` a year on."""
    rows = await db.execute(
        select(CalendarDay.day, CalendarDay.is_open).where(
            CalendarDay.library_id == library.id,
            CalendarDay.day >= today,
            CalendarDay.day <= today + timedelta(days=MAX_CALENDAR_SPAN_DAYS),
        )
    )
    exceptions = {day: open_ for day, open_ in rows.all()}
    closed = parse_closed_weekdays(library.closed_weekdays)
    return lambda day: is_open(day, closed, exceptions)


def next_opening_morning(after: date, test: IsOpen, timezone: str) -> datetime:
    """09:00 local on the first opening day after ``after`` (MAIL-1's "next opening day")."""
    day = next_opening_day(after + timedelta(days=1), test)
    return datetime.combine(day, MAIL_HOUR, tzinfo=ZoneInfo(timezone))


def check_library(library: Library | None) -> Library:
    if library is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="libraryId")
    return library
