"""New arrivals: titles added since a date, by classification (MAIL-4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from models import OutboxMessage, SweepRun
from policies.clock import FixedClock, library_today
from resolvers.circulation.new_arrivals import queue_new_arrivals
from tests.conftest import T0
from tests.support import Api, Factory, codes

ARRIVALS = """query($since: Date!, $classes: [String!], $after: String) {
  newArrivals(since: $since, subjectClasses: $classes, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { title subjectClass } } } }"""


async def test_new_arrivals_since_a_date_by_class(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # MAIL-4: what the weekly mail lists; newest first, paged, narrowed by class prefix.
    await factory.record("古い本", subject_class="913.6")
    clock.advance(timedelta(days=10))
    since = factory.today()
    await factory.record("小説 一", subject_class="913.6")
    clock.advance(timedelta(hours=1))
    await factory.record("歴史 一", subject_class="210.1")
    clock.advance(timedelta(hours=1))
    await factory.record("小説 二", subject_class="913.6")
    body = await api.gql(ARRIVALS, {"since": since.isoformat()})
    result = body["data"]["newArrivals"]
    assert result["totalCount"] == 3
    assert [e["node"]["title"] for e in result["edges"]] == ["小説 二", "歴史 一"]
    rest = await api.gql(
        ARRIVALS, {"since": since.isoformat(), "after": result["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["title"] for e in rest["data"]["newArrivals"]["edges"]] == ["小説 一"]
    novels = await api.gql(ARRIVALS, {"since": since.isoformat(), "classes": ["913"]})
    assert novels["data"]["newArrivals"]["totalCount"] == 2
    literal = await api.gql(ARRIVALS, {"since": since.isoformat(), "classes": ["9%"]})
    assert literal["data"]["newArrivals"]["totalCount"] == 0  # % is a character, not a pattern
    too_many = await api.gql(ARRIVALS, {"since": since.isoformat(), "classes": ["1"] * 21})
    assert codes(too_many) == ["INVALID_INPUT"]


async def _scan(api: Api, now: datetime, page_size: int) -> dict[int, dict[str, Any]]:
    """Run the weekly scan from scratch; the payload it queued per patron."""
    services = api.app.state.services
    async with services.sessions() as db, db.begin():
        await db.execute(delete(OutboxMessage))
        await db.execute(delete(SweepRun))
    today = library_today(now, "Asia/Tokyo")
    sent = await queue_new_arrivals(
        services.sessions, services.policy, now, today, page_size=page_size
    )
    async with services.sessions() as db:
        rows = (await db.execute(select(OutboxMessage))).scalars().all()
    assert sent == len(rows)
    return {row.patron_id: row.payload for row in rows if row.patron_id is not None}


async def test_weekly_scan_reads_the_week_a_page_at_a_time(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # MAIL-4: the scan pages through the week's titles (a bulk import adds the whole
    # catalogue in one week); across page boundaries, also between titles added at the same
    # instant, each mail is what one read of the whole week gives.
    every = await factory.patron(None, new_arrival_fields={"keywords": ["本"]})
    novels = await factory.patron(None, new_arrival_fields={"subject_classes": ["913"]})
    nobody = await factory.patron(None, new_arrival_fields={"authors": ["該当なし"]})
    added: list[str] = []
    for hour, count in ((0, 3), (1, 2), (25, 2)):  # three titles at one instant, then more
        clock.set(T0 + timedelta(hours=hour))
        for i in range(count):
            title = f"本 {hour}-{i}"
            await factory.record(title, subject_class="913.6" if i % 2 == 0 else "210.1")
            added.append(title)
    now = T0 + timedelta(days=7)
    paged = await _scan(api, now, page_size=2)
    assert paged == await _scan(api, now, page_size=1000)
    assert nobody.id not in paged  # no mail when nothing matches
    assert paged[every.id]["total"] == 7
    assert [t["title"] for t in paged[every.id]["titles"]] == added  # in the order added
    assert [t["title"] for t in paged[novels.id]["titles"]] == [
        "本 0-0",
        "本 0-2",
        "本 1-0",
        "本 25-0",
    ]
