"""Library calendars as the circulation rules use them: "is this library open that day?"
(SVC-2), and the staff's keeping of them (STAFF-1)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarDay, Library
from models.driver_reads import KEYS, DriverSelect, fetch_in
from policies.calendar import MAX_CALENDAR_SPAN_DAYS, IsOpen, is_open, parse_closed_weekdays
from policies.circulation import next_opening_day
from policies.errors import ErrorCode, RuleViolation

# Mails owed "on the next opening day" go out from this local time on that day (MAIL-1).
MAIL_HOUR = time(9, 0)


# A library's calendar exceptions over a span of days (sent by the driver: the renewal, the
# desk's checkout and the trap each read it inside their transaction).
_EXCEPTIONS = DriverSelect(
    select(CalendarDay.day, CalendarDay.is_open).where(
        CalendarDay.library_id.in_(KEYS),
        CalendarDay.day >= bindparam("first", type_=Date),
        CalendarDay.day <= bindparam("last", type_=Date),
    ),
    params=("first", "last"),
)


async def opening_test(db: AsyncSession, library: Library, today: date) -> IsOpen:
    """A function telling whether ``library`` is open on a day, from ``today`` a year on."""
    rows = await fetch_in(
        db,
        _EXCEPTIONS,
        [library.id],
        first=today,
        last=today + timedelta(days=MAX_CALENDAR_SPAN_DAYS),
    )
    exceptions = {day: open_ for day, open_ in rows}
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
