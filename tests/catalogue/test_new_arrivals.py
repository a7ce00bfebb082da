"""New arrivals: titles added since a date, by classification (MAIL-4)."""

from __future__ import annotations

from datetime import timedelta

from policies.clock import FixedClock
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
