"""Loaders batch: a page of 20 titles costs the same SQL statements as a page of 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.support import Api, Factory

SEARCH = """query($n: Int!) { search(query: "本", first: $n) { totalCount edges { node {
  title holdable availability { library { name } copies available }
  copies { barcode status library { code } }
} } } }"""


@contextmanager
def count_statements(api: Api) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = api.app.state.engine.sync_engine

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_search_page_cost_does_not_grow_with_page_size(api: Api, factory: Factory) -> None:
    # HOLD-10 / LOAN-1 groundwork: no N+1 — availability, copies and libraries are batched.
    libs = [await factory.library(f"L{i}") for i in range(3)]
    for i in range(20):
        rec = await factory.record(f"本の題名 {i}")
        for lib in libs[: 1 + i % 3]:
            await factory.copy(rec, lib)
    costs = {}
    for size in (2, 20):
        with count_statements(api) as statements:
            body = await api.gql(SEARCH, {"n": size})
        assert len(body["data"]["search"]["edges"]) == size
        costs[size] = len(statements)
    assert costs[2] == costs[20]
