"""Fuzz the whole schema with hypothesis-graphql (issue [7/8]).

Queries and mutations over every root field, generated from ``schema/schema.graphql``, go
through the real ASGI app twice over: as a logged-in patron who has loans, holds, a basket,
a bookshelf and e-books, and as an anonymous visitor. Whatever the document, the answer is
never a 5xx and no error is ``INTERNAL_ERROR``: bad input gets its own code.

The documents are drawn first (Hypothesis runs sync, the app runs on the session's event
loop), with a fixed seed, so a CI run is repeatable. ``HONDANA_FUZZ_EXAMPLES`` sets how
many operations to send in all (default 5,000) and ``HONDANA_FUZZ_SEED`` the seed, e.g.

    HONDANA_FUZZ_EXAMPLES=50000 HONDANA_FUZZ_SEED=2 .venv/bin/pytest -s tests/api/test_fuzz.py

Run with ``-s`` to see the split (executed / refused before execution) and the error codes.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import time
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from models import EbookTitle
from policies.enums import CopyStatus, LibraryKind, MaterialType
from resolvers import sessions
from schema import ids
from tests.support import Api, Factory

SDL_PATH = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"
TOTAL = int(os.environ.get("HONDANA_FUZZ_EXAMPLES", "5000"))
SEED = int(os.environ.get("HONDANA_FUZZ_SEED", "20261130"))
# One document in ten breaks the schema on purpose (a wrong type, a missing argument, an
# unknown enum value): it must be refused with INVALID_QUERY, never crash.
NEGATIVE_SHARE = 10
VIEWERS = ("patron", "anonymous")
# Every kind of object an id can name; a fresh database numbers rows from 1, so small
# primary keys name the seeded rows (the patron's own and other people's).
ID_TYPES = (
    "Application",
    "BasketEntry",
    "Bookshelf",
    "BookshelfEntry",
    "Copy",
    "EbookHold",
    "EbookLoan",
    "Hold",
    "Library",
    "Loan",
    "Patron",
    "Record",
    "StaffUser",
)
# Codes that refuse a document before anything runs (graphql-core validation, the limits).
REFUSED_CODES = {
    "INVALID_QUERY",
    "ONE_CREDENTIAL_ATTEMPT",
    "QUERY_TOO_DEEP",
    "TOO_MANY_ALIASES",
    "TOO_MANY_TOKENS",
    "PAGE_SIZE_OUT_OF_RANGE",
    "BATCHING_DISABLED",
}


def _string(value: object) -> graphql.ValueNode:
    return nodes.String(value)


def _raw_id(type_name: str, tail: str) -> str:
    """An opaque id whose number part is ``tail``, whatever that is."""
    return base64.urlsafe_b64encode(f"{type_name}:{tail}".encode()).decode().rstrip("=")


def scalar_strategies() -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Values for ``ID``, ``Date`` and ``DateTime``: mostly valid, some not.

    Ids are mostly real opaque ids of small primary keys (the seeded rows), with some of
    the wrong type, absurd numbers, malformed base64, plain text and integers. Dates are
    mostly near the test's today, with some far in the past or future and some that are
    not dates at all.
    """
    real_id = st.builds(ids.encode, st.sampled_from(ID_TYPES), st.integers(1, 12)).map(_string)
    odd_id = st.one_of(
        st.builds(
            _raw_id,
            st.sampled_from(ID_TYPES),
            st.sampled_from(
                ["0", "-1", "", "1.5", "x", "999999999999999999", "9" * 19, "1" * 60, "１"]
            ),
        ),
        st.builds(ids.encode, st.sampled_from(ID_TYPES), st.integers(13, 2**63 - 1)),
        st.text(max_size=30),
        st.sampled_from(["====", "!!", "a" * 101, "%00", "UmVjb3Jk", "UmVjb3JkOjE"]),
    ).map(_string)
    id_ = st.one_of(
        real_id, real_id, real_id, odd_id, st.integers(-(2**31), 2**31 - 1).map(nodes.Int)
    )
    near = st.dates(date(2026, 1, 1), date(2028, 12, 31)).map(date.isoformat).map(_string)
    far = st.dates().map(date.isoformat).map(_string)
    not_a_date = st.one_of(
        st.sampled_from(
            ["", "2026-02-30", "2026-13-01", "2026-1-1", "20261201", "tomorrow", "2026-12-01T10:00"]
        ),
        st.text(max_size=12),
    ).map(_string)
    date_ = st.one_of(near, near, near, far, not_a_date, st.integers(0, 10**6).map(nodes.Int))
    datetime_ = st.one_of(
        st.datetimes().map(lambda d: d.isoformat()).map(_string), st.text(max_size=20).map(_string)
    )
    return {"ID": id_, "Date": date_, "DateTime": datetime_}


def documents(count: int, salt: int, mode: Mode) -> list[str]:
    """``count`` operations (queries and mutations) over the whole schema, drawn with a
    fixed seed so every run draws the same ones."""
    strategy = from_schema(SDL_PATH.read_text(), custom_scalars=scalar_strategies(), mode=mode)
    drawn: list[str] = []

    @seed(SEED + salt)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(document: str) -> None:
        drawn.append(document)

    collect()
    return drawn[:count]


@dataclass
class Tally:
    """What the fuzz saw: how many operations, how they ended, which codes came back."""

    sent: Counter[str] = field(default_factory=Counter)
    executed: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    top_codes: Counter[str] = field(default_factory=Counter)
    payload_codes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    def report(self, seconds: float) -> str:
        lines = [
            f"fuzz: {sum(self.sent.values())} operations in {seconds:.1f} s (seed {SEED})",
            f"  sent:     {dict(self.sent)}",
            f"  executed: {dict(self.executed)}",
            f"  refused before execution: {dict(self.refused)}",
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
    if status >= 500 or "INTERNAL_ERROR" in codes or "None" in codes:
        tally.failures.append((viewer, document, f"{status}: {body}"[:800]))


async def _patron_world(api: Api, factory: Factory) -> tuple[str, int]:
    """A patron with two loans, a waiting hold, a basket entry, a bookshelf with a title,
    an e-book on loan and an e-book hold; other titles, copies and libraries around them.
    Returns the patron's bearer token and id."""
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
    return token, patron.id


async def _fresh_token(api: Api, patron_id: int) -> str:
    """A new session for the patron, as a login opens one (the fuzz may have logged out)."""
    services = api.app.state.services
    async with services.sessions() as db, db.begin():
        return await sessions.open_session(db, now=services.clock.now(), patron_id=patron_id)


# Known, reported to the lead (not fixed here): some generated documents make Strawberry
# build resolver coroutines (PermissionExtension.resolve_async) that are never awaited and
# are garbage-collected with a RuntimeWarning; the answers are still correct codes.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_fuzz_whole_schema_as_patron_and_anonymous(api: Api, factory: Factory) -> None:
    # SEC: fuzzing over the whole schema (issue [7/8]): no 5xx, no INTERNAL_ERROR, ever.
    per_viewer = TOTAL // len(VIEWERS)
    negative = per_viewer // NEGATIVE_SHARE
    started = time.monotonic()
    # Drawing is CPU work in Hypothesis; two processes draw while this one seeds and sends.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        drawing: dict[str, list[Future[list[str]]]] = {
            viewer: [
                pool.submit(documents, per_viewer - negative, salt, Mode.POSITIVE),
                pool.submit(documents, negative, salt + 1, Mode.NEGATIVE),
            ]
            for salt, viewer in zip((0, 10), VIEWERS, strict=True)
        }
        token, patron_id = await _patron_world(api, factory)
        tally = Tally()
        for viewer in VIEWERS:
            batch = [doc for future in drawing[viewer] for doc in future.result()]
            for document in batch:
                response = await api.post(document, token=token if viewer == "patron" else None)
                try:
                    body = response.json()
                except ValueError:
                    body = response.text
                check(tally, viewer, document, response.status_code, body)
                if viewer == "patron" and "logout" in document:
                    token = await _fresh_token(api, patron_id)
    print("\n" + tally.report(time.monotonic() - started))
    assert not tally.failures, "\n\n".join(
        f"[{viewer}] {problem}\n{document}" for viewer, document, problem in tally.failures[:5]
    )
    assert sum(tally.sent.values()) >= TOTAL - 1, tally.sent
    # Most operations must run, not just be refused by validation or the limits.
    assert sum(tally.executed.values()) > sum(tally.refused.values()), tally.report(0)
