"""On SQLite every call on the driver's connection is a trip to aiosqlite's own thread
(a future, a queue, a wake-up of the event loop): a request's reads make one trip per
statement and nothing else (issue [R2 9/9]).

The request's read connection used to be switched to autocommit at checkout, and back at
checkin (a cursor, a ``PRAGMA``, a close), and the pool rolled back every connection given
back: eleven trips for a list of three statements, and about 40 % of the CPU of a record
page. SQLite reads outside a transaction as it is, and the pool now rolls back only a
connection that is in one (``models/db.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite
import pytest

from tests.api.lists import World
from tests.api.test_query_counts import CASES, count_statements, document
from tests.support import Api, Factory

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@contextmanager
def count_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call sent to an aiosqlite connection's thread in the block: its name, and
    the SQL it runs if it runs some."""
    trips: list[str] = []
    send = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sql = f" {args[0]}" if args and isinstance(args[0], str) else ""
        trips.append(getattr(fn, "__name__", type(fn).__name__) + sql)
        return await send(self, fn, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(aiosqlite.Connection, "_execute", counted)
        yield trips


@pytest.mark.parametrize(("name", "front"), [("myLoans", "MyLoans"), ("myHolds", "MyHolds")])
async def test_a_list_crosses_to_the_driver_thread_once_per_statement(
    api: Api, factory: Factory, monkeypatch: pytest.MonkeyPatch, name: str, front: str
) -> None:
    # LOAN-1, HOLD-7: the lists are read by the driver itself, a statement a trip.
    world = await World.create(api, factory)
    await CASES[name].grow(world, 5)
    with count_statements(api) as statements, count_trips(monkeypatch) as trips:
        body = await api.gql(document("web-opac", front), token=world.token)
    assert "errors" not in body, body
    assert trips == [f"_execute_fetchall {sql}" for sql in statements]


async def test_a_search_sends_only_its_statements(
    api: Api, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SEARCH-1: reads through SQLAlchemy take a trip for each cursor step, and each ORM
    # session's end rolls back; no trip switches a setting or runs SQL of its own.
    world = await World.create(api, factory)
    await CASES["search"].grow(world, 5)
    variables = {"query": "検索", "sort": "RELEVANCE", "first": 5}
    with count_statements(api) as statements, count_trips(monkeypatch) as trips:
        body = await api.gql(document("web-opac", "Search"), variables, token=world.token)
    assert "errors" not in body, body
    sent = [trip.split(" ", 1)[1] for trip in trips if " " in trip]
    assert sent == statements
    steps = {trip for trip in trips if " " not in trip}
    assert steps <= {"cursor", "fetchall", "close", "rollback"}, steps
    # The index's bitmaps and the page of titles, most of a search's statements, are read
    # by the driver: one trip each, not a cursor's four.
    driver = [t.split(" ", 1)[1] for t in trips if t.startswith("_execute_fetchall ")]
    postings = [sql for sql in statements if "FROM search_postings" in sql]
    assert postings and set(postings) <= set(driver), (postings, driver)
