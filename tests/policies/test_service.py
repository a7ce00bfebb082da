"""Service rules as pure functions: the maintenance window (SVC-1), library days and library
calendars (SVC-2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.calendar import (
    MAX_CALENDAR_SPAN_DAYS,
    is_open,
    next_open_day,
    open_days,
    parse_closed_weekdays,
)
from policies.clock import FixedClock, library_today
from policies.config import ServicePolicy
from policies.service import maintenance_remaining

DEFAULT = ServicePolicy()
JST = timezone(timedelta(hours=9))


def _utc(text: str) -> datetime:
    """``"2026-11-29T18:50:00"`` as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- SVC-1: maintenance window ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "remaining"),
    [
        ("2026-11-29T18:00:00", None),  # 03:00 in Tokyo
        ("2026-11-29T18:49:59", None),  # 03:49:59
        ("2026-11-29T18:50:00", timedelta(minutes=30)),  # 03:50
        ("2026-11-29T18:50:01", timedelta(minutes=29, seconds=59)),
        ("2026-11-29T19:05:00", timedelta(minutes=15)),
        ("2026-11-29T19:19:59", timedelta(seconds=1)),
        ("2026-11-29T19:19:59.500000", timedelta(milliseconds=500)),
        ("2026-11-29T19:20:00", None),  # 04:20: over
        ("2026-11-29T19:21:00", None),
        ("2026-11-30T03:50:00", None),  # 03:50 UTC is 12:50 in Tokyo
        ("2026-11-30T01:00:00", None),
    ],
)
def test_maintenance_window_default(now: str, remaining: timedelta | None) -> None:
    # SVC-1: 03:50-04:20 Asia/Tokyo, whatever zone the instant is given in.
    clock = FixedClock(_utc(now))
    assert maintenance_remaining(clock.now(), DEFAULT) == remaining
    assert maintenance_remaining(clock.now().astimezone(JST), DEFAULT) == remaining


def test_maintenance_window_walk() -> None:
    # SVC-1: minute by minute through a day, exactly 30 minutes are in maintenance.
    clock = FixedClock(_utc("2026-11-29T15:00:00"))  # midnight in Tokyo
    inside = 0
    for _ in range(24 * 60):
        if maintenance_remaining(clock.now(), DEFAULT) is not None:
            inside += 1
        clock.advance(timedelta(minutes=1))
    assert inside == 30


MIDNIGHT = ServicePolicy(maintenance_start=time(23, 30), maintenance_end=time(0, 30))


@pytest.mark.parametrize(
    ("now", "remaining"),
    [
        ("2026-11-30T14:29:59", None),  # 23:29:59 in Tokyo
        ("2026-11-30T14:30:00", timedelta(hours=1)),  # 23:30
        ("2026-11-30T14:45:00", timedelta(minutes=45)),
        ("2026-11-30T14:59:59", timedelta(minutes=30, seconds=1)),
        ("2026-11-30T15:00:00", timedelta(minutes=30)),  # 00:00 the next day
        ("2026-11-30T15:10:00", timedelta(minutes=20)),
        ("2026-11-30T15:29:59", timedelta(seconds=1)),
        ("2026-11-30T15:30:00", None),  # 00:30
        ("2026-11-30T18:50:00", None),  # the default window no longer applies
        ("2026-12-31T14:40:00", timedelta(minutes=50)),  # across the year's end
    ],
)
def test_maintenance_window_across_midnight(now: str, remaining: timedelta | None) -> None:
    # SVC-1: the window is configuration and may cross midnight.
    assert maintenance_remaining(_utc(now), MIDNIGHT) == remaining


@pytest.mark.parametrize(
    "now",
    ["2026-11-29T18:50:00", "2026-11-29T19:00:00", "2026-11-29T19:05:00", "2026-11-30T03:00:00"],
)
def test_empty_maintenance_window(now: str) -> None:
    # SVC-1: start == end means no maintenance at all.
    policy = ServicePolicy(maintenance_start=time(4, 0), maintenance_end=time(4, 0))
    assert maintenance_remaining(_utc(now), policy) is None


@pytest.mark.parametrize(
    ("now", "remaining"),
    [
        ("2026-11-30T03:49:59", None),
        ("2026-11-30T03:50:00", timedelta(minutes=30)),
        ("2026-11-29T18:50:00", None),
    ],
)
def test_maintenance_window_timezone_from_policy(now: str, remaining: timedelta | None) -> None:
    # SVC-1: the library's time zone is configuration too.
    assert maintenance_remaining(_utc(now), ServicePolicy(timezone="UTC")) == remaining


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_maintenance_remaining_never_exceeds_window(naive: datetime) -> None:
    # SVC-1: when inside, the time left is positive and at most the window's length.
    now = naive.replace(tzinfo=UTC)
    for policy, length in ((DEFAULT, timedelta(minutes=30)), (MIDNIGHT, timedelta(hours=1))):
        remaining = maintenance_remaining(now, policy)
        if remaining is not None:
            assert timedelta(0) < remaining <= length
            # Once the remaining time has passed, maintenance is over.
            assert maintenance_remaining(now + remaining, policy) is None


# --- SVC-2: library days --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "today"),
    [
        ("2026-11-30T00:00:00", date(2026, 11, 30)),  # 09:00 in Tokyo
        ("2026-11-30T14:59:59", date(2026, 11, 30)),  # 23:59:59
        ("2026-11-30T15:00:00", date(2026, 12, 1)),  # midnight: already tomorrow
        ("2026-11-29T15:00:00", date(2026, 11, 30)),
        ("2026-12-31T15:00:00", date(2027, 1, 1)),  # new year in Tokyo first
        ("2028-02-28T15:00:00", date(2028, 2, 29)),  # leap day
    ],
)
def test_library_today(now: str, today: date) -> None:
    # SVC-2: "today" is the date in Asia/Tokyo, not in UTC.
    clock = FixedClock(_utc(now))
    assert library_today(clock.now(), DEFAULT.timezone) == today


def test_library_today_follows_configured_timezone() -> None:
    # SVC-2
    now = _utc("2026-11-30T15:00:00")
    assert library_today(now, "UTC") == date(2026, 11, 30)
    assert library_today(now, "Asia/Tokyo") == date(2026, 12, 1)


MON = date(2026, 11, 30)
TUE, WED, THU, FRI, SAT, SUN = (MON + timedelta(days=n) for n in range(1, 7))
SUN_BEFORE = MON - timedelta(days=1)
CLOSED_MONDAYS = frozenset({1})


@pytest.mark.parametrize(
    ("day", "closed", "exceptions", "expected"),
    [
        (MON, CLOSED_MONDAYS, {}, False),  # weekly closure
        (TUE, CLOSED_MONDAYS, {}, True),
        (SUN, CLOSED_MONDAYS, {}, True),
        (SUN, frozenset({7}), {}, False),  # 7 = Sunday
        (MON, frozenset(), {}, True),
        (TUE, CLOSED_MONDAYS, {TUE: False}, False),  # holiday on an open weekday
        (MON, CLOSED_MONDAYS, {MON: True}, True),  # extra opening on a closed weekday
        (TUE, CLOSED_MONDAYS, {TUE: True}, True),  # an "open" exception on an open day
        (MON, CLOSED_MONDAYS, {MON: False}, False),
        (WED, CLOSED_MONDAYS, {TUE: False, MON: True}, True),  # other days' exceptions
        (SAT, frozenset(range(1, 8)), {}, False),  # closed every day
        (SAT, frozenset(range(1, 8)), {SAT: True}, True),
    ],
)
def test_is_open(
    day: date, closed: frozenset[int], exceptions: dict[date, bool], expected: bool
) -> None:
    # SVC-2: weekly closures, and dated exceptions that win both ways.
    assert is_open(day, closed, exceptions) is expected


@pytest.mark.parametrize(
    ("start", "end", "closed", "exceptions", "expected"),
    [
        (MON, SUN, CLOSED_MONDAYS, {}, [TUE, WED, THU, FRI, SAT, SUN]),
        (MON, SUN, CLOSED_MONDAYS, {THU: False}, [TUE, WED, FRI, SAT, SUN]),
        (MON, SUN, CLOSED_MONDAYS, {MON: True, THU: False}, [MON, TUE, WED, FRI, SAT, SUN]),
        (MON, SUN, frozenset({1, 4}), {}, [TUE, WED, FRI, SAT, SUN]),
        (TUE, TUE, CLOSED_MONDAYS, {}, [TUE]),  # start and end are both included
        (MON, MON, CLOSED_MONDAYS, {}, []),
        (SUN, MON, frozenset(), {}, []),  # end before start
        (MON, SUN, frozenset(range(1, 8)), {WED: True}, [WED]),
    ],
)
def test_open_days(
    start: date,
    end: date,
    closed: frozenset[int],
    exceptions: dict[date, bool],
    expected: list[date],
) -> None:
    # SVC-2
    assert list(open_days(start, end, closed, exceptions)) == expected


@pytest.mark.parametrize(
    ("after", "closed", "exceptions", "inclusive", "expected"),
    [
        (TUE, CLOSED_MONDAYS, {}, True, TUE),  # inclusive: an open day is its own answer
        (TUE, CLOSED_MONDAYS, {}, False, WED),  # exclusive: the day after at the earliest
        (SUN_BEFORE, CLOSED_MONDAYS, {}, False, TUE),  # skips the Monday closure
        (MON, CLOSED_MONDAYS, {}, True, TUE),
        (SUN_BEFORE, CLOSED_MONDAYS, {TUE: False, WED: False}, False, THU),  # closure then holidays
        (SUN_BEFORE, CLOSED_MONDAYS, {MON: True}, False, MON),  # extra opening on a Monday
        (MON, frozenset({1, 2, 3, 4, 5, 6}), {}, True, SUN),
        (SAT, CLOSED_MONDAYS, {SUN: False}, False, MON + timedelta(days=8)),  # Sun, Mon shut
    ],
)
def test_next_open_day(
    after: date,
    closed: frozenset[int],
    exceptions: dict[date, bool],
    inclusive: bool,
    expected: date,
) -> None:
    # SVC-2
    assert next_open_day(after, closed, exceptions, inclusive=inclusive) == expected


def test_next_open_day_gives_up_after_the_calendar_span() -> None:
    # SVC-2: a library closed every day has no next opening day ...
    always_closed = frozenset(range(1, 8))
    assert next_open_day(MON, always_closed, {}, inclusive=True) is None
    # ... unless an extra opening lies within the span the calendar covers.
    near = MON + timedelta(days=MAX_CALENDAR_SPAN_DAYS - 1)
    assert next_open_day(MON, always_closed, {near: True}, inclusive=True) == near
    far = MON + timedelta(days=MAX_CALENDAR_SPAN_DAYS)
    assert next_open_day(MON, always_closed, {far: True}, inclusive=True) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", set()),
        ("1", {1}),
        ("1,4", {1, 4}),
        (" 1 , 7 ", {1, 7}),
        ("1,1,2", {1, 2}),
        ("0,8,x", set()),  # out of range and junk are ignored
        ("0,1,8,x,7", {1, 7}),
        ("-1,3.5,,3", {3}),
        ("1;2", set()),
        ("mon,tue", set()),
        ("12", set()),
        ("²,1", {1}),
        ("１,٣,2", {2}),  # full-width and Arabic-Indic digits are not weekdays
    ],
)
def test_parse_closed_weekdays(raw: str, expected: set[int]) -> None:
    # SVC-2: ISO weekdays 1..7; unknown parts are ignored.
    assert parse_closed_weekdays(raw) == frozenset(expected)
