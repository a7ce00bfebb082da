"""Library calendars: which days a library is open (SVC-2)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta

MAX_CALENDAR_SPAN_DAYS = 400
_WEEKDAYS = frozenset("1234567")  # ASCII only: "²".isdigit() is true but int("²") fails


def parse_closed_weekdays(raw: str) -> frozenset[int]:
    """``"1,4"`` → {1, 4} (ISO weekdays, 1 = Monday). Unknown parts are ignored."""
    return frozenset(int(p) for p in (part.strip() for part in raw.split(",")) if p in _WEEKDAYS)


def is_open(day: date, closed_weekdays: frozenset[int], exceptions: Mapping[date, bool]) -> bool:
    """Open unless closed that weekday; a dated exception (holiday or extra day) wins."""
    if day in exceptions:
        return exceptions[day]
    return day.isoweekday() not in closed_weekdays


def open_days(
    start: date, end: date, closed_weekdays: frozenset[int], exceptions: Mapping[date, bool]
) -> Iterator[date]:
    """Every opening day from ``start`` to ``end`` inclusive."""
    day = start
    while day <= end:
        if is_open(day, closed_weekdays, exceptions):
            yield day
        day += timedelta(days=1)


IsOpen = Callable[[date], bool]


def first_open_day(
    day: date, open_on: IsOpen, horizon: int = MAX_CALENDAR_SPAN_DAYS
) -> date | None:
    """``day`` or the first later day ``open_on`` accepts, looking ``horizon`` days ahead."""
    for offset in range(horizon):
        candidate = day + timedelta(days=offset)
        if open_on(candidate):
            return candidate
    return None


def next_open_day(
    after: date,
    closed_weekdays: frozenset[int],
    exceptions: Mapping[date, bool],
    *,
    inclusive: bool,
) -> date | None:
    """The first opening day on (``inclusive``) or after ``after``; ``None`` if none in a year."""
    start = after if inclusive else after + timedelta(days=1)
    return first_open_day(start, lambda day: is_open(day, closed_weekdays, exceptions))
