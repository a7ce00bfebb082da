"""No N+1: every list the front ends page or show costs the same SQL statements for 1 item
as for 100 (issue [8/8]).

Each case sends the front ends' own operations (``clients/**/*.graphql``) while its list
grows through 1, 10, 50 and 100 items, and counts the statements each request runs. Rows
are written in bulk with the factory: the API is what is measured, not how rows got there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import FieldNode, OperationDefinitionNode, parse, print_ast
from sqlalchemy import event

from models import Hold
from schema.shared import ids
from server.trusted import operation_files
from tests.api.lists import (
    Grow,
    World,
    grow_applications,
    grow_audit_log,
    grow_basket,
    grow_bookshelf,
    grow_holds,
    grow_loans,
    grow_mail_log,
    grow_new_arrivals,
    grow_pull_list,
    grow_reading_history,
    grow_search,
)
from tests.support import Api, Factory

SIZES = (1, 10, 50, 100)
DOCUMENTS = {(front, path.stem): path for front, path in operation_files()}


@contextmanager
def count_statements(api: Api) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []
    engine = api.app.state.engine.sync_engine

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def document(front: str, name: str) -> str:
    """A front end's operation, as it ships."""
    return DOCUMENTS[(front, name)].read_text(encoding="utf-8")


def gid(type_name: str, pk: int) -> str:
    return str(ids.encode(type_name, pk))


Variables = Callable[[World, int], dict[str, Any]]
# (label, document, variables): the variables see the world and the size.
Send = tuple[str, str, Variables]


def op(front: str, name: str, variables: Variables = lambda _w, _n: {}) -> Send:
    """A front end's operation as it ships."""
    return (f"{front}/{name}", document(front, name), variables)


def _searching(_: World, n: int) -> dict[str, Any]:
    return {"query": "検索", "sort": "RELEVANCE", "first": n}


def _by_card(world: World, _: int) -> dict[str, Any]:
    return {"cardNumber": world.patron.card_number}


def detail_per_hit() -> Send:
    """What the record page (web-opac/RecordDetail) selects, for every hit of a search."""
    [operation] = parse(document("web-opac", "RecordDetail")).definitions
    assert isinstance(operation, OperationDefinitionNode)
    [record] = operation.selection_set.selections
    assert isinstance(record, FieldNode) and record.selection_set is not None
    text = (
        "query($query: String!, $sort: SearchSort!, $first: Int!) {"
        " search(query: $query, sort: $sort, first: $first) { edges { node "
        + print_ast(record.selection_set)
        + " } } }"
    )
    return ("web-opac/RecordDetail per search hit", text, _searching)


@dataclass(frozen=True)
class Case:
    """A list, how it grows, and the operations that read it."""

    grow: Grow
    sends: tuple[Send, ...]


def _length(data: dict[str, Any]) -> int:
    """The length of the list under the operation's first field (edges of a connection,
    entries of the one bookshelf)."""
    value = next(iter(data.values()))
    if isinstance(value, dict):
        value = value["edges"]
    if value and isinstance(value[0], dict) and "entries" in value[0]:
        return len(value[0]["entries"])
    return len(value)


CASES = {
    # BASKET-4 / HOLD-1: hits with whether each is holdable, availability per library,
    # copies and their libraries, as the web OPAC, the staff catalogue and the app ask,
    # and everything the record page shows, for each hit.
    "search": Case(
        grow_search,
        (
            op("web-opac", "Search", _searching),
            op("staff-dashboard", "CatalogueSearch", _searching),
            op("smartphone", "SearchCompact", _searching),
            detail_per_hit(),
        ),
    ),
    # MAIL-4: the new titles, as the web OPAC pages them.
    "newArrivals": Case(
        grow_new_arrivals,
        (
            op(
                "web-opac",
                "NewArrivals",
                lambda w, n: {"since": w.factory.today().isoformat(), "first": n},
            ),
        ),
    ),
    # LOAN-1 (title, due date) and LOAN-3 (renewable, why not).
    "myLoans": Case(
        grow_loans,
        (op("web-opac", "MyLoans"), op("smartphone", "MyLoansCompact"), op("smartphone", "Home")),
    ),
    # HOLD-10: title, pickup library, state, position and deadline.
    "myHolds": Case(grow_holds, (op("web-opac", "MyHolds"), op("smartphone", "MyHoldsCompact"))),
    # BASKET-1: up to 100 titles.
    "myBasket": Case(grow_basket, (op("web-opac", "MyBasket"), op("smartphone", "MyBasket"))),
    # Bookshelves (本棚): a shelf of up to 100 titles.
    "myBookshelves": Case(grow_bookshelf, (op("web-opac", "MyBookshelves"),)),
    # Reading history (opt-in, at most 100).
    "myReadingHistory": Case(grow_reading_history, (op("web-opac", "MyReadingHistory"),)),
    # HOLD-5: the pull list staff work through in the morning.
    "pullList": Case(
        grow_pull_list,
        (
            op(
                "staff-dashboard",
                "PullList",
                lambda w, _n: {"libraryId": gid("Library", w.libraries[0].id)},
            ),
        ),
    ),
    # APP-1: the applications queue, with the patron each names.
    "applications": Case(
        grow_applications,
        (op("staff-dashboard", "ApplicationsQueue", lambda _w, _n: {"state": "PENDING"}),),
    ),
    # MAIL-8 / STAFF-1: a patron's mails and who read the patron's data.
    "mailLog": Case(grow_mail_log, (op("staff-dashboard", "MailLog", _by_card),)),
    "staffAuditLog": Case(grow_audit_log, (op("staff-dashboard", "StaffAuditLog", _by_card),)),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_statements_per_operation_do_not_grow_with_the_list(
    api: Api, factory: Factory, name: str
) -> None:
    # No N+1 for every list a front end shows: the same statements for 1, 10, 50 and 100
    # items (rules named per case above).
    case = CASES[name]
    world = await World.create(api, factory)
    costs: dict[str, list[int]] = {label: [] for label, _, _ in case.sends}
    seen: dict[str, list[list[str]]] = {label: [] for label, _, _ in case.sends}
    for size in SIZES:
        await case.grow(world, size)
        for label, text, variables in case.sends:
            token = world.staff_token if label.startswith("staff-dashboard") else world.token
            with count_statements(api) as statements:
                body = await api.gql(text, variables(world, size), token=token)
            assert "errors" not in body, (label, body)
            if not label.endswith("/Home"):  # Home also shows holds and the patron
                assert _length(body["data"]) == size, (label, size)
            costs[label].append(len(statements))
            seen[label].append([" ".join(sql.split())[:120] for sql in statements])
    growing = {label: cost for label, cost in costs.items() if len(set(cost)) > 1}
    assert not growing, f"statements by size {SIZES}: {growing}; first and last: " + "; ".join(
        f"{label}: {seen[label][0]} / {seen[label][-1]}" for label in growing
    )


@pytest.mark.parametrize(
    ("name", "front", "expected"),
    [
        # viewer; loans joined with copies, titles and whether others wait; libraries
        ("myLoans", "MyLoans", 3),
        # viewer; holds joined with titles and their places in the waiting lines; libraries
        ("myHolds", "MyHolds", 3),
    ],
)
async def test_the_patron_lists_read_their_rows_joined(
    api: Api, factory: Factory, name: str, front: str, expected: int
) -> None:
    # LOAN-1, LOAN-3, HOLD-7, HOLD-10 (issue [R2 9/9]): a list's rows come with their
    # copies, titles and waiting lines in one joined statement; the lists read copies,
    # titles and waiting lines in statements of their own before (six for myLoans, five
    # for myHolds).
    world = await World.create(api, factory)
    await CASES[name].grow(world, 5)
    with count_statements(api) as statements:
        body = await api.gql(document("web-opac", front), token=world.token)
    assert "errors" not in body, body
    assert len(next(iter(body["data"].values()))) == 5
    assert len(statements) == expected, statements


async def test_the_two_step_hold_reads_and_writes_each_row_once(api: Api, factory: Factory) -> None:
    # BASKET-1..3, HOLD-1..4, HOLD-6 and reading privacy (issue [R2 9/9]): the web OPAC's
    # add, placement and cancellation, each in its one transaction. The patron is locked
    # and read in one statement, the hold too; the title the add read answers its payload;
    # the settle's ended rows are found in one statement and the cancelled hold is written
    # once, ended and forgotten. PostgreSQL (SQLite takes its write lock by an UPDATE of
    # its own per lock): 5, 12 and 6 statements, where they were 6, 13 and 12.
    library = await factory.library("受取")
    record = await factory.record("二段階の予約")
    await factory.copy(record, library)
    patron = await factory.patron("yomu2468", default_pickup_library_id=library.id)
    token = await api.login(patron.card_number, "yomu2468")
    counts: list[int] = []
    steps: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
        ("AddToBasket", lambda _: {"recordId": gid("Record", record.id)}),
        ("PlaceHolds", lambda data: {"basketEntryIds": [data["addToBasket"]["entry"]["id"]]}),
        ("CancelHold", lambda data: {"holdId": data["placeHolds"]["results"][0]["hold"]["id"]}),
    ]
    data: dict[str, Any] = {}
    for name, variables in steps:
        with count_statements(api) as statements:
            body = await api.gql(document("web-opac", name), variables(data), token=token)
        assert "errors" not in body, body
        data = body["data"]
        payload = next(iter(data.values()))
        assert not payload.get("errors"), payload
        counts.append(len(statements))
    assert data["cancelHold"]["hold"]["state"] == "CANCELLED"
    sqlite = api.app.state.engine.dialect.name == "sqlite"
    assert counts == ([5, 13, 7] if sqlite else [5, 12, 6]), counts


async def test_a_renewal_reads_its_loans_joined_in_one_statement(
    api: Api, factory: Factory
) -> None:
    # LOAN-2, LOAN-3, LOAN-4 (issue [R2 9/9]): the loans asked for come with their copies,
    # titles, libraries and whether someone else waits, in one statement; then the
    # library's calendar and one UPDATE per renewed loan. Before: the waiting line in a
    # statement of its own, through the ORM (6 statements).
    library = await factory.library("延長")
    patron = await factory.patron("yomu2468")
    other = await factory.patron("yomu2468")
    free, wanted, elsewhere = [await factory.record(f"延長の本 {i}") for i in range(3)]
    loans = [
        await factory.loan(patron, await factory.copy(record, library), due_in_days=5)
        for record in (free, wanted)
    ]
    others_loan = await factory.loan(other, await factory.copy(elsewhere, library), due_in_days=5)
    await factory.add(
        Hold(
            patron_id=other.id,
            record_id=wanted.id,
            pickup_library_id=library.id,
            placed_at=factory.clock.now(),
        )
    )
    token = await api.login(patron.card_number, "yomu2468")
    asked = [gid("Loan", loan.id) for loan in (*loans, others_loan)]
    with count_statements(api) as statements:
        body = await api.gql(document("web-opac", "RenewLoans"), {"loanIds": asked}, token=token)
    results = body["data"]["renewLoans"]["results"]
    assert [r["renewed"] for r in results] == [True, False, False], results
    assert [[e["code"] for e in r["errors"]] for r in results] == [
        [],
        ["HELD_BY_OTHERS"],
        ["NOT_FOUND"],
    ]
    # viewer; the patron locked; the loans joined; the calendar; the renewed loan
    assert len(statements) == 5, "\n".join(" ".join(s.split())[:90] for s in statements)
