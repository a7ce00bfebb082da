"""Fuzz the whole schema with hypothesis-graphql (issue [7/8]).

Queries and mutations generated from ``schema/schema.graphql`` go through the real ASGI app
as three viewers: a logged-in patron who has loans, holds, a basket, a bookshelf and
e-books; an anonymous visitor; and a staff user with the ADMIN role. Whatever the document,
the answer is never a 5xx and no error is ``INTERNAL_ERROR``: bad input gets its own code.

Each document asks for one root field, drawn uniformly from all of them, so a patron's
``myLoans`` is not nulled by a sibling staff field and most documents execute. One in ten
breaks the schema on purpose (a wrong type, a missing argument, an unknown enum value) and
must be refused with ``INVALID_QUERY``. Ids are mostly those of the seeded rows.

What runs where (``HONDANA_FUZZ_EXAMPLES``, default 2,500, sets the SQLite count; PostgreSQL
runs half as many, with other seeds): SQLite 1,000 as the patron, 1,000 anonymous, 500 as
staff; PostgreSQL 500 / 500 / 250. A run of 5,000 (twice the default) measured on a busy
2-core machine (seed 20261130, 2 December 2026), executed = reached the resolvers (in brackets: the share of all sent that an access rule
refused there); the rest were refused before execution (validation, the limits; one
document in ten is invalid on purpose):

    SQLite      5,000 in 152 s: patron 83% (26% access), anonymous 82% (68%), staff 85% (50%)
    PostgreSQL  2,500 in  71 s: patron 82% (22% access), anonymous 84% (74%), staff 85% (46%)

(The first version, several root fields per document, SQLite only: 59% executed, 245 s.)

The documents are drawn in two worker processes (Hypothesis runs sync and is CPU work),
chunk by chunk while this process sends the chunks already drawn, with fixed seeds, so a run
is repeatable. For a longer run, e.g.

    HONDANA_FUZZ_EXAMPLES=50000 HONDANA_FUZZ_SEED=2 .venv/bin/pytest -s tests/api/test_fuzz.py

``-s`` prints the split per viewer (executed / of those, refused by an access rule / refused
before execution) and the error codes.

No warning filter: a resolver coroutine left un-awaited fails the run. (graphql-core 3.2
dropped the pending coroutines of an object's other fields when one field failed
synchronously, graphql-python/graphql-core#236; 3.3 settles them, and this fuzz's own
documents, replayed without the filter the first version needed, leave none.)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis_graphql import Mode
from sqlalchemy import func, select

import models
from models import EbookTitle
from policies.enums import CopyStatus, LibraryKind, MaterialType, StaffRole
from resolvers.accounts import sessions
from schema.shared import ids
from tests.api.fuzz_documents import ID_TYPES, documents
from tests.support import Api, Factory

pytestmark = pytest.mark.long

# 2,500 on SQLite and half that on PostgreSQL in `make test`; a deeper run:
# HONDANA_FUZZ_EXAMPLES=50000 .venv/bin/pytest tests/api/test_fuzz.py (README, "Tests").
EXAMPLES = int(os.environ.get("HONDANA_FUZZ_EXAMPLES", "2500"))
# Operations per database, as a share of EXAMPLES, and each viewer's share of those.
PER_DATABASE = {"sqlite": 1.0, "postgresql": 0.5}
VIEWERS = {"patron": 0.4, "anonymous": 0.4, "staff": 0.2}
NEGATIVE_SHARE = 10  # one document in ten breaks the schema on purpose
CHUNK = 250  # documents per draw: sending starts after the first chunk
# Access refusals (ARCHITECTURE.md "Errors"): the field ran its permission checks. A
# document refused before execution (validation, the limits) has no error with a path.
ACCESS_CODES = {"UNAUTHENTICATED", "SESSION_EXPIRED", "FORBIDDEN", "TEMPORARY_PASSWORD"}
ACCESS_CODES |= {"CARD_EXPIRED", "OVERDUE_BLOCK"}


@dataclass
class Tally:
    """What the fuzz saw per viewer: how many operations, how they ended, which codes."""

    sent: Counter[str] = field(default_factory=Counter)
    executed: Counter[str] = field(default_factory=Counter)
    denied: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    top_codes: Counter[str] = field(default_factory=Counter)
    payload_codes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    def report(self, database: str, seconds: float) -> str:
        lines = [f"fuzz on {database}: {sum(self.sent.values())} operations in {seconds:.1f} s"]
        for viewer, sent in self.sent.items():
            ran, denied, refused = self.executed[viewer], self.denied[viewer], self.refused[viewer]
            lines.append(
                f"  {viewer}: {sent} sent, {ran} executed ({ran / sent:.0%}; {denied} of them "
                f"refused by an access rule), {refused} refused before execution"
            )
        lines += [
            f"  HTTP statuses: {dict(self.statuses)}",
            f"  top-level error codes: {dict(self.top_codes.most_common())}",
            f"  payload error codes: {dict(self.payload_codes.most_common())}",
        ]
        return "\n".join(lines)


def _payload_codes(value: Any, inside_errors: bool = False) -> list[str]:
    """Every ``code`` of a ``UserError`` anywhere in ``data``."""
    if isinstance(value, list):
        return [c for v in value for c in _payload_codes(v, inside_errors)]
    if not isinstance(value, dict):
        return []
    found = [value["code"]] if inside_errors and isinstance(value.get("code"), str) else []
    for key, inner in value.items():
        found += _payload_codes(inner, key == "errors" or key.startswith("errors_"))
    return found


def check(tally: Tally, viewer: str, document: str, status: int, body: Any) -> None:
    """Count one answer and keep it if it is a 5xx or carries an INTERNAL_ERROR."""
    tally.sent[viewer] += 1
    tally.statuses[status] += 1
    if not isinstance(body, dict):
        tally.failures.append((viewer, document, f"{status}: not a JSON object: {body!r}"[:500]))
        return
    errors = body.get("errors") or []
    codes = [str((e.get("extensions") or {}).get("code")) for e in errors]
    tally.top_codes.update(codes)
    tally.payload_codes.update(_payload_codes(body.get("data")))
    if body.get("data") is None and errors and not any(e.get("path") for e in errors):
        tally.refused[viewer] += 1
    else:
        tally.executed[viewer] += 1
        tally.denied[viewer] += bool(ACCESS_CODES.intersection(codes))
    if status >= 500 or "INTERNAL_ERROR" in codes or "None" in codes:
        tally.failures.append((viewer, document, f"{status}: {body}"[:800]))


@dataclass
class World:
    """The seeded viewers: the patron's and the staff user's ids and bearer tokens."""

    patron_id: int
    staff_id: int
    tokens: dict[str, str | None]


async def _world(api: Api, factory: Factory) -> World:
    """A patron with two loans, a waiting hold, a basket entry, a bookshelf with a title,
    an e-book on loan and an e-book hold; other titles, copies and libraries around them;
    an ADMIN staff user."""
    central = await factory.library("central")
    branch = await factory.library("branch", LibraryKind.BRANCH_ROOM)
    await factory.library("mobile", LibraryKind.BOOKMOBILE, takes_holds=False)
    held, basketed, shelved = (
        await factory.record("予約の本", isbn="9784101010014", subject_class="913.6"),
        await factory.record("かごの本", volume="上", series="三部作"),
        await factory.record("本棚の本", year=1905, publisher="岩波書店"),
    )
    cd = await factory.record("音楽", material_type=MaterialType.CD)
    for rec in (held, basketed, shelved, cd):
        await factory.copy(rec, central)
        await factory.copy(rec, branch)
    reference = await factory.record("辞典")
    await factory.copy(reference, central, reference_only=True)
    ebook, ebook_out = (
        await factory.record("電子の本", material_type=MaterialType.EBOOK),
        await factory.record("貸出中の電子書籍", material_type=MaterialType.EBOOK),
    )
    await factory.add(
        EbookTitle(record_id=ebook.id, licences=2), EbookTitle(record_id=ebook_out.id, licences=1)
    )
    patron = await factory.patron("yomu2468", email1="reader@example.jp")
    other = await factory.patron("otsu2468")
    staff = await factory.staff("fuzzboss", "staffpass9", {StaffRole.ADMIN})
    for title in ("貸出中の本", "返却期限の近い本"):
        lent = await factory.copy(await factory.record(title), central, status=CopyStatus.ON_LOAN)
        await factory.loan(patron, lent, due_in_days=5)
    token = await api.login(patron.card_number, "yomu2468")
    other_token = await api.login(other.card_number, "otsu2468")

    async def ask(query: str, variables: dict[str, Any], as_token: str = token) -> Any:
        body = await api.gql(query, variables, token=as_token)
        assert not body.get("errors"), body
        return body["data"]

    add = "mutation($r: ID!) { addToBasket(recordId: $r) { entry { id } errors { code } } }"
    entry = (await ask(add, {"r": ids.encode("Record", held.id)}))["addToBasket"]["entry"]["id"]
    placed = await ask(
        "mutation($e: [ID!]!, $p: ID) { placeHolds(basketEntryIds: $e, pickupLibraryId: $p)"
        " { results { hold { id } errors { code } } errors { code } } }",
        {"e": [entry], "p": ids.encode("Library", central.id)},
    )
    assert placed["placeHolds"]["results"][0]["hold"], placed
    await ask(add, {"r": ids.encode("Record", basketed.id)})
    shelf = (await ask('mutation { createBookshelf(name: "好きな本") { bookshelf { id } } }', {}))[
        "createBookshelf"
    ]["bookshelf"]["id"]
    await ask(
        "mutation($s: ID!, $r: [ID!]) { addToBookshelf(bookshelfId: $s, recordIds: $r)"
        " { errors { code } } }",
        {"s": shelf, "r": [ids.encode("Record", shelved.id)]},
    )
    borrow = "mutation($r: ID!) { borrowEbook(recordId: $r) { loan { id } errors { code } } }"
    await ask(borrow, {"r": ids.encode("Record", ebook.id)})
    await ask(borrow, {"r": ids.encode("Record", ebook_out.id)}, other_token)
    hold = await ask(
        "mutation($r: ID!) { placeEbookHold(recordId: $r) { hold { id } errors { code } } }",
        {"r": ids.encode("Record", ebook_out.id)},
    )
    assert hold["placeEbookHold"]["hold"], hold
    staff_token = await api.staff_login("fuzzboss", "staffpass9")
    return World(patron.id, staff.id, {"patron": token, "anonymous": None, "staff": staff_token})


async def _id_bases(api: Api) -> dict[str, int]:
    """The lowest primary key of each id type: PostgreSQL's sequences go on counting across
    the tests of a session, so the seeded rows are not always numbered from 1."""
    bases: dict[str, int] = {}
    async with api.app.state.services.sessions() as db:
        for type_name in ID_TYPES:
            model = getattr(models, type_name)
            bases[type_name] = await db.scalar(select(func.min(model.id))) or 1
    return bases


async def _fresh_token(api: Api, world: World, viewer: str) -> str:
    """A new session for ``viewer``, as a login opens one (the fuzz may have logged out)."""
    services = api.app.state.services
    async with services.sessions() as db, db.begin():
        if viewer == "staff":
            return await sessions.open_session(
                db, now=services.clock.now(), staff_id=world.staff_id
            )
        return await sessions.open_session(db, now=services.clock.now(), patron_id=world.patron_id)


def _plan(database: str) -> list[tuple[str, int, Mode, int]]:
    """(viewer, count, mode, salt) per chunk of documents to draw, in sending order."""
    plan: list[tuple[str, int, Mode, int]] = []
    for v, (viewer, share) in enumerate(VIEWERS.items()):
        total = round(EXAMPLES * PER_DATABASE[database] * share)
        for c, start in enumerate(range(0, total, CHUNK)):
            size = min(CHUNK, total - start)
            negative = size // NEGATIVE_SHARE
            salt = 10_000 * (database == "postgresql") + 100 * v + 2 * c
            plan += [(viewer, size - negative, Mode.POSITIVE, salt)]
            plan += [(viewer, negative, Mode.NEGATIVE, salt + 1)] if negative else []
    return plan


@pytest.mark.filterwarnings("error:coroutine .* was never awaited:RuntimeWarning")
async def test_fuzz_whole_schema(api: Api, factory: Factory, database_url: str) -> None:
    # SEC: fuzzing over the whole schema (issue [7/8]): no 5xx, no INTERNAL_ERROR, ever.
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    started = time.monotonic()
    world = await _world(api, factory)
    bases = await _id_bases(api)
    tally = Tally()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        drawing: list[tuple[str, Future[list[str]]]] = [
            (viewer, pool.submit(documents, count, salt, mode, bases))
            for viewer, count, mode, salt in _plan(database)
        ]
        for viewer, future in drawing:
            for document in await asyncio.wrap_future(future):
                response = await api.post(document, token=world.tokens[viewer])
                try:
                    body = response.json()
                except ValueError:
                    body = response.text
                check(tally, viewer, document, response.status_code, body)
                if viewer != "anonymous" and "logout" in document:
                    world.tokens[viewer] = await _fresh_token(api, world, viewer)
    report = tally.report(database, time.monotonic() - started)
    print("\n" + report)
    assert not tally.failures, "\n\n".join(
        f"[{viewer}] {problem}\n{document}" for viewer, document, problem in tally.failures[:5]
    )
    expected = round(EXAMPLES * PER_DATABASE[database])
    assert sum(tally.sent.values()) >= expected - len(VIEWERS), report
    # Most operations must run, not just be refused by validation or the limits.
    for viewer in VIEWERS:
        assert tally.executed[viewer] > 2 * tally.refused[viewer], report
