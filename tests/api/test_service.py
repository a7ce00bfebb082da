"""The daily maintenance window (SVC-1) and the library-day clock (SVC-2)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from models import Session
from policies.clock import FixedClock
from tests.support import Api, Factory, codes


async def test_maintenance_window_answers_503_and_changes_nothing(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # SVC-1: 03:50-04:20 Tokyo, every request gets MAINTENANCE with Retry-After; no writes.
    patron = await factory.patron("yomu2468")
    clock.set(datetime(2026, 11, 30, 18, 55, tzinfo=UTC))  # 03:55 JST on 1 December
    response = await api.post(
        'mutation { login(cardNumber: "%s", password: "yomu2468", delivery: BEARER) { accessToken } }'
        % patron.card_number
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(25 * 60)
    assert codes(response.json()) == ["MAINTENANCE"]
    assert response.json()["errors"][0]["extensions"]["rule"] == "SVC-1"
    english = await api.post("{ libraries { name } }", headers={"Accept-Language": "en"})
    assert "maintenance" in english.json()["errors"][0]["message"]
    async with api.app.state.services.sessions() as db:
        assert (await db.execute(select(func.count()).select_from(Session))).scalar_one() == 0
    health = await api.http.get("/healthz")
    assert health.status_code == 200
    clock.set(datetime(2026, 11, 30, 19, 20, tzinfo=UTC))  # 04:20 JST: open again
    assert await api.login(patron.card_number, "yomu2468")


async def test_library_days_are_tokyo_days(api: Api, factory: Factory, clock: FixedClock) -> None:
    # SVC-2: a loan due "today" in Tokyo is overdue from Tokyo's midnight, not UTC's.
    lib = await factory.library()
    patron = await factory.patron("yomu2468")
    clock.set(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # 23:00 JST, 30 November
    await factory.loan(patron, await factory.copy(await factory.record(), lib), due_in_days=0)
    token = await api.login(patron.card_number, "yomu2468")
    assert (await api.gql("{ myLoans { daysOverdue } }", token=token))["data"]["myLoans"] == [
        {"daysOverdue": 0}
    ]
    clock.set(datetime(2026, 11, 30, 15, 1, tzinfo=UTC))  # 00:01 JST, 1 December
    token = await api.login(patron.card_number, "yomu2468")  # the first session idled out
    assert (await api.gql("{ myLoans { daysOverdue } }", token=token))["data"]["myLoans"] == [
        {"daysOverdue": 1}
    ]


async def test_opening_days_follow_the_calendar(api: Api, factory: Factory) -> None:
    # SVC-2: each library's calendar: weekly closures plus dated exceptions.
    from datetime import date

    from models import CalendarDay

    lib = await factory.library("CEN", closed_weekdays="1")  # closed on Mondays
    await factory.add(
        CalendarDay(library_id=lib.id, day=date(2026, 12, 2), is_open=False, note="館内整理日"),
        CalendarDay(library_id=lib.id, day=date(2026, 12, 7), is_open=True, note="臨時開館"),
    )
    body = await api.gql('{ libraries { code openingDays(from: "2026-11-30", to: "2026-12-08") } }')
    assert body["data"]["libraries"][0]["openingDays"] == [
        "2026-12-01",
        "2026-12-03",
        "2026-12-04",
        "2026-12-05",
        "2026-12-06",
        "2026-12-07",
        "2026-12-08",
    ]
    too_long = await api.gql('{ libraries { openingDays(from: "2026-01-01", to: "2028-01-01") } }')
    assert codes(too_long) == ["INVALID_INPUT"]
