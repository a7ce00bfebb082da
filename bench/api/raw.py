"""The physical-limit baseline of the API benchmark (issue [R2 9/9]): raw Starlette
endpoints over asyncpg or aiosqlite, no ORM, no GraphQL, orjson.

Each endpoint sends the SQL the GraphQL operation of the same name sends, written by hand
as text, on one pooled connection per request, and builds the same ``data`` the
web OPAC's document selects (``run.py --baseline raw`` checks it field by field). What is
shared with Hondana is only pure in-memory code, which a hand-written endpoint would have
to copy anyway: query folding (``policies.folding`` via ``search._clauses``), the bitmap
intersection and relevance tiers (``field_hits``, ``_by_relevance`` over pyroaring), and the
pure policy functions (session liveness, renewal refusal, days overdue). PostgreSQL
(asyncpg) or SQLite (aiosqlite): the SQL is written once, and bench/api/raw_sql.py sends
it on SQLite as the API's SQLAlchemy sends it there. The two-step hold and its
cancellation (``/add-to-basket``, ``/place-holds``, ``/cancel-hold``) are in
bench/api/raw_holds.py, served by the same app.

    python bench/api/launch.py raw PORT
"""

from __future__ import annotations

import base64
import contextlib
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import raw_sql
from pyroaring import BitMap
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.accounts import can_log_in, session_is_live  # noqa: E402
from policies.cards import days_overdue  # noqa: E402
from policies.clock import library_today  # noqa: E402
from policies.enums import LibraryKind, MaterialType, PasswordState  # noqa: E402
from policies.folding import words_joined  # noqa: E402
from policies.variants import VARIANT_KANJI  # noqa: E402
from resolvers.accounts.sessions import TOUCH_AFTER, token_digest  # noqa: E402
from resolvers.catalogue.postings import PostingReader, field_hits  # noqa: E402
from resolvers.catalogue.search import CHECK_LIMIT, SearchRequest, clauses_of  # noqa: E402
from resolvers.catalogue.search_documents import VARIANT, title_lines  # noqa: E402
from resolvers.catalogue.search_rank import (  # noqa: E402
    EXACT_SLACK,
    RANK_LIMIT,
    Tier,
    _is_kanji,
    _query_text,
    page,
)
from resolvers.circulation.loans import refusal_today  # noqa: E402
from server import collector  # noqa: E402
from server.settings import Settings  # noqa: E402

UNHOLDABLE = (MaterialType.ART_REPRODUCTION.value, MaterialType.EBOOK.value)
AVAILABILITY = """
SELECT record_id, library_id, count(*),
       sum(CASE WHEN status = 'AVAILABLE' THEN 1 ELSE 0 END),
       sum(CASE WHEN NOT reference_only AND NOT from_other_city THEN 1 ELSE 0 END)
FROM copies WHERE record_id = ANY($1) AND status != 'WITHDRAWN'
GROUP BY record_id, library_id ORDER BY record_id, library_id"""
RECORD_COLS = "id, title, responsibility, publisher, year, material_type, isbn"
UNAUTHENTICATED = {"data": None, "errors": [{"extensions": {"code": "UNAUTHENTICATED"}}]}
QUEUES = """
SELECT record_id, id, patron_id FROM holds WHERE record_id = ANY($1) AND state = 'WAITING'
ORDER BY record_id, placed_at, id"""
# Each lent copy's earliest due day (RecordDetail's copies[].dueOn). SQLite has no
# DISTINCT ON: there, as the API's loader reads them, every open loan of the copies by due
# day, of which the endpoint keeps each copy's first.
DUE_DAYS = raw_sql.sqlite_form(
    "SELECT DISTINCT ON (copy_id) copy_id, due_on FROM loans "
    "WHERE copy_id = ANY($1) AND returned_at IS NULL ORDER BY copy_id, due_on, id",
    "SELECT copy_id, due_on FROM loans "
    "WHERE copy_id = ANY($1) AND returned_at IS NULL ORDER BY due_on, id",
)
# The patron's holds in play with their titles, each with its place in the waiting line
# (the holds waiting for the title that came no later) and the line's length.
MY_HOLDS = """
SELECT h.id, h.state, h.pickup_deadline, h.paused_until, h.placed_at, h.record_id, r.title,
       h.pickup_library_id,
       (SELECT count(*) FROM holds w WHERE w.record_id = h.record_id AND w.state = 'WAITING'
          AND (w.placed_at < h.placed_at OR (w.placed_at = h.placed_at AND w.id <= h.id))),
       (SELECT count(*) FROM holds w WHERE w.record_id = h.record_id AND w.state = 'WAITING')
FROM holds h JOIN records r ON r.id = h.record_id
WHERE h.patron_id = $1 AND h.state IN ('WAITING', 'IN_TRANSIT', 'READY')
ORDER BY h.placed_at, h.id"""


def gid(type_name: str, pk: int) -> str:
    """The same opaque id as ``schema.shared.ids.encode``."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def _pk(type_name: str, global_id: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except ValueError:
        return None
    prefix, _, number = raw.partition(":")
    return int(number) if prefix == type_name and number.isdigit() else None


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


class Raw:
    """The endpoints over one pool (raw_sql.py: asyncpg's, or aiosqlite connections)."""

    def __init__(self, settings: Settings, on_statement: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.policy = settings.policy.to_policy()
        self.pool: raw_sql.Pool | None = None
        self.on_statement = on_statement

    async def start(self) -> None:
        size = self.settings.db_pool_size
        self.pool = await raw_sql.open_pool(self.settings.database_url, 2 * size, self.on_statement)

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        """The pool for the server's lifetime; the garbage collector set as the API's is
        (server/collector.py), so neither side pays a collection the other skips."""
        await self.start()
        collector.tune()
        try:
            yield
        finally:
            await self.stop()

    async def _patron_id(self, conn: Any, request: Request) -> int | None:
        """The bearer session's active patron, as ``viewer_for_token`` judges it."""
        viewer = await self._viewer(conn, request)
        return None if viewer is None else viewer[0]

    async def _viewer(self, conn: Any, request: Request) -> tuple[int, date] | None:
        """The bearer session's active patron and their card's expiry day (the HOLDING
        guard's CARD-1 reads it from the viewer, as ``viewer_for_token`` builds it)."""
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() != "bearer ":
            return None
        now = datetime.now(UTC)
        row = await conn.fetchrow(
            "SELECT s.id, s.created_at, s.last_seen_at, p.id, p.password_state, "
            "p.card_expires_on "
            "FROM sessions s LEFT JOIN patrons p ON p.id = s.patron_id WHERE s.token_hash = $1",
            token_digest(auth[7:].strip()),
        )
        if row is None or row[3] is None:
            return None
        state = PasswordState(row[4])
        live = session_is_live(
            created_at=row[1], last_seen_at=row[2], now=now, policy=self.policy.accounts
        )
        if not live or not can_log_in(state) or state is not PasswordState.ACTIVE:
            return None
        if now - row[2] >= TOUCH_AFTER:
            await conn.execute("UPDATE sessions SET last_seen_at = $1 WHERE id = $2", now, row[0])
        return int(row[3]), row[5]

    async def _libraries(self, conn: Any) -> dict[int, Any]:
        rows = await conn.fetch(
            "SELECT id, name, kind, takes_holds FROM libraries ORDER BY position, id"
        )
        return {r[0]: r for r in rows}

    async def _availability(self, conn: Any, ids: list[int]) -> dict[int, list[Any]]:
        groups: dict[int, list[Any]] = defaultdict(list)
        for r in await conn.fetch(AVAILABILITY, ids):
            groups[r[0]].append(r)
        return groups

    @staticmethod
    def _summary(row: Any, avail: list[Any], libs: dict[int, Any]) -> dict[str, Any]:
        return {
            "id": gid("Record", row[0]),
            "title": row[1],
            "responsibility": row[2],
            "publisher": row[3],
            "year": row[4],
            "materialType": row[5],
            "isbn": row[6],
            "holdable": row[5] not in UNHOLDABLE and any(a[4] for a in avail),
            "availability": [
                {
                    "library": {"id": gid("Library", a[1]), "name": libs[a[1]][1]},
                    "copies": a[2],
                    "available": int(a[3] or 0),
                }
                for a in avail
            ],
        }

    async def search(self, request: Request) -> Response:
        """``Search`` with ``query`` and ``first`` (relevance order, no filters)."""
        variables = orjson.loads(await request.body()).get("variables", {})
        first = int(variables.get("first", 20))
        clauses = clauses_of(SearchRequest(query=str(variables.get("query", ""))))
        assert clauses, "the benchmark sends searchable words"
        index = PostingReader(None)
        keys = {f"{c}:{k}" for cl in clauses for c in cl.fields for k in cl.term.index_grams()}
        query = _query_text(clauses)
        if query:  # the relevance keys (search_rank.relevance_tiers), in the same statement
            keys |= {f"^t:{query[:2]}", f"^k:{query[:2]}", VARIANT}
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            libs = await self._libraries(conn)
            facet_keys = [f"m:{m.value}" for m in MaterialType] + [f"l:{i}" for i in libs]
            parts: dict[str, BitMap] = defaultdict(BitMap)
            for key, blob in await conn.fetch(
                "SELECT key, ids FROM search_postings WHERE key = ANY($1)",
                sorted(keys | set(facet_keys)),
            ):
                parts[key] |= BitMap.deserialize(blob)
            index.cache.update(parts)
            matches = BitMap.intersection(
                *(BitMap.union(*(field_hits(index, cl, f) for f in cl.fields)) for cl in clauses)
            )
            matches = await self._check(conn, matches, [c for c in clauses if not c.term.exact])
            tiers = await self._tiers(conn, index, matches, clauses, query)
            ranked = page(tiers, first + 1, None)
            shown = ranked[:first]
            rows = {
                r[0]: r
                for r in await conn.fetch(
                    f"SELECT {RECORD_COLS} FROM records WHERE id = ANY($1)",  # noqa: S608 (constants)
                    shown,
                )
            }
            avail = await self._availability(conn, shown)
        cursors = [base64.urlsafe_b64encode(f"k:{i}".encode()).decode().rstrip("=") for i in shown]
        types = [(m.value, index.get(f"m:{m.value}").intersection_cardinality(matches))
                 for m in MaterialType]  # fmt: skip
        by_lib = [(i, index.get(f"l:{i}").intersection_cardinality(matches)) for i in libs]
        data = {
            "search": {
                "totalCount": len(matches),
                "pageInfo": {
                    "hasNextPage": len(ranked) > first,
                    "endCursor": cursors[-1] if cursors else None,
                },
                "edges": [
                    {"cursor": c, "node": self._summary(rows[i], avail.get(i, []), libs)}
                    for c, i in zip(cursors, shown, strict=True)
                ],
                "materialTypeFacets": [
                    {"materialType": m, "count": n}
                    for m, n in sorted(types, key=lambda t: (-t[1], t[0]))
                    if n
                ],
                "libraryFacets": [
                    {"count": n, "library": {"id": gid("Library", i), "name": libs[i][1]}}
                    for i, n in sorted(by_lib, key=lambda t: (-t[1], t[0]))
                    if n
                ],
            }
        }
        return _json({"data": data})

    @staticmethod
    async def _tiers(
        conn: Any, index: PostingReader, matches: BitMap, clauses: list[Any], query: str
    ) -> list[Tier]:
        """``search_rank.relevance_tiers`` with its two reads written by hand."""
        in_title = BitMap(matches)
        for clause in clauses:
            in_title &= field_hits(index, clause, "t") if "t" in clause.fields else BitMap()
        if not query or not in_title:
            return [in_title, matches - in_title]
        t_start, k_start = (index.get(k) & in_title for k in (f"^t:{query[:2]}", f"^k:{query[:2]}"))
        begins = t_start | k_start
        raw = [c.term.raw for c in clauses if "t" in c.fields and c.term.raw]
        head: list[Tier]
        if len(query) <= 2:
            exact = BitMap()
            if len(t_start) <= RANK_LIMIT:
                width = len(query) + EXACT_SLACK
                for rid, start in await conn.fetch(
                    "SELECT record_id, substr(title_text, 1, $2) FROM record_search"
                    " WHERE record_id = ANY($1)",
                    list(t_start),
                    width,
                ):
                    line, ended, _ = start.partition("\n")
                    if (ended or len(start) < width) and words_joined(line) == query:
                        exact.add(rid)
            head = []
            for part in (exact, t_start - exact, k_start - t_start):
                untyped = await Raw._variant(conn, index, part, raw, short=True)
                head += [part - untyped, untyped]
        elif len(begins) <= RANK_LIMIT:
            keyed: list[tuple[int, bool, int]] = []
            for rid, text, title in await conn.fetch(
                "SELECT rs.record_id, rs.title_text, r.title FROM record_search rs "
                "JOIN records r ON r.id = rs.record_id WHERE rs.record_id = ANY($1)",
                list(begins),
            ):
                folded, reading = (words_joined(line) for line in title_lines(text))
                tier = 0 if folded == query else 1 if folded.startswith(query) else 2
                if tier == 2 and not reading.startswith(query):
                    continue
                keyed.append((tier, not all(w in title for w in raw), -rid))
            keyed.sort()
            ranked = [-neg for _, _, neg in keyed]
            head, begins = [ranked], BitMap(ranked)
        else:
            head, begins = [], BitMap()
        rest = in_title - begins
        variant = await Raw._variant(conn, index, rest, raw)
        return [*head, rest - variant, variant, matches - in_title]

    @staticmethod
    async def _variant(
        conn: Any, index: PostingReader, ids: BitMap, raw: list[str], short: bool = False
    ) -> BitMap:
        """``search_rank._variant_forms`` (``short``: ``_untyped``): titles holding a word
        only in another form than typed."""
        if not raw or all(w.isascii() for w in raw):
            return BitMap()
        if short:
            standard = all(_is_kanji(ch) and ch not in VARIANT_KANJI for w in raw for ch in w)
            suspects = ids & index.get(VARIANT) if standard else ids
        else:
            typed_variant = any(ch in VARIANT_KANJI for w in raw for ch in w)
            suspects = ids if typed_variant else ids & index.get(VARIANT)
        if not suspects or len(suspects) > RANK_LIMIT:
            return BitMap()
        likes = " AND ".join(f"title LIKE ${n + 2} ESCAPE '/'" for n in range(len(raw)))
        sql = f"SELECT id FROM records WHERE id = ANY($1) AND {likes}"  # noqa: S608
        pats = ["%" + w.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%" for w in raw]
        typed = BitMap(r[0] for r in await conn.fetch(sql, list(suspects), *pats))
        return suspects - typed

    @staticmethod
    async def _check(conn: Any, candidates: BitMap, inexact: list[Any]) -> BitMap:
        """``search._check``: candidates whose folded text holds each kana/kanji run."""
        if not inexact or not 0 < len(candidates) <= CHECK_LIMIT:
            return candidates
        cols = {"t": "title_text", "a": "author_text", "p": "publisher_text", "s": "subject_text"}
        conds, params = [], []
        for c in inexact:
            text = c.term.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{text}%")
            n = len(params) + 1
            conds.append(
                "(" + " OR ".join(f"{cols[f]} LIKE ${n} ESCAPE '\\'" for f in c.fields) + ")"
            )
        # Column names from the constant map, every value a bind parameter.
        where = " AND ".join(conds)
        sql = f"SELECT record_id FROM record_search WHERE record_id = ANY($1) AND {where}"  # noqa: S608
        kept = BitMap()
        ids = list(candidates)
        for start in range(0, len(ids), 1000):
            kept.update(r[0] for r in await conn.fetch(sql, ids[start : start + 1000], *params))
        return kept

    async def record(self, request: Request) -> Response:
        """``RecordDetail``."""
        variables = orjson.loads(await request.body()).get("variables", {})
        pk = _pk("Record", str(variables.get("id", "")))
        if pk is None:
            return _json({"data": {"record": None}})
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {RECORD_COLS}, title_reading, subject_class, subjects, series, volume, "  # noqa: S608
                "is_comic FROM records WHERE id = $1",
                pk,
            )
            if row is None:
                return _json({"data": {"record": None}})
            libs = await self._libraries(conn)
            avail = (await self._availability(conn, [pk])).get(pk, [])
            copies = await conn.fetch(
                "SELECT id, status, shelf_mark, reference_only, library_id, shelf_location "
                "FROM copies "
                "WHERE record_id = $1 AND status != 'WITHDRAWN' ORDER BY id",
                pk,
            )
            queue = await conn.fetch(QUEUES, [pk])
            lent = [c[0] for c in copies if c[1] == "ON_LOAN"]
            due: dict[int, date] = {}
            for copy_id, due_on in await conn.fetch(DUE_DAYS, lent) if lent else []:
                due.setdefault(copy_id, due_on)  # each copy's first
        data = {
            "record": {
                **self._summary(row, avail, libs),
                "titleReading": row[7],
                "subjectClass": row[8],
                "subjects": [s for s in (row[9] or "").split(" | ") if s],
                "series": row[10],
                "volume": row[11],
                "isComic": row[12],
                "holdCount": len(queue),
                "copies": [
                    {
                        "id": gid("Copy", c[0]),
                        "status": c[1],
                        "callNumber": c[2],
                        "shelfLocation": c[5],
                        "dueOn": due[c[0]].isoformat() if c[0] in due else None,
                        "referenceOnly": c[3],
                        "library": {"id": gid("Library", c[4]), "name": libs[c[4]][1]},
                    }
                    for c in copies
                ],
            }
        }
        return _json({"data": data})

    async def _patron_rows(
        self, request: Request, sql: str
    ) -> tuple[list[Any], dict[int, Any]] | None:
        """The bearer patron's rows of ``sql`` and the libraries; ``None`` without an
        active patron session."""
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            patron = await self._patron_id(conn, request)
            if patron is None:
                return None
            rows = await conn.fetch(sql, patron)
            libs = await self._libraries(conn)
        return rows, libs

    async def my_loans(self, request: Request) -> Response:
        """``MyLoans``: each loan with its copy, title and whether others wait for it."""
        found = await self._patron_rows(
            request,
            "SELECT l.id, l.due_on, l.renewals, l.library_id, l.patron_id, c.from_other_city, "
            "c.library_id, r.id, r.title, r.material_type, EXISTS (SELECT 1 FROM holds h "
            "WHERE h.record_id = c.record_id AND h.state = 'WAITING' "
            "AND h.patron_id != l.patron_id) FROM loans l "
            "JOIN copies c ON c.id = l.copy_id JOIN records r ON r.id = c.record_id "
            "WHERE l.patron_id = $1 AND l.returned_at IS NULL ORDER BY l.due_on, l.id",
        )
        if found is None:
            return _json(UNAUTHENTICATED)
        loans, libs = found
        today = library_today(datetime.now(UTC), self.policy.service.timezone)
        items = []
        for r in loans:
            refusal = refusal_today(
                SimpleNamespace(due_on=r[1], renewals=r[2]),  # type: ignore[arg-type]
                SimpleNamespace(from_other_city=r[5]),  # type: ignore[arg-type]
                SimpleNamespace(material_type=MaterialType(r[9])),  # type: ignore[arg-type]
                SimpleNamespace(kind=LibraryKind(libs[r[3]][2])),  # type: ignore[arg-type]
                r[10],
                today,
                self.policy.circulation,
            )
            items.append(
                {
                    "id": gid("Loan", r[0]),
                    "dueOn": r[1].isoformat(),
                    "renewals": r[2],
                    "daysOverdue": days_overdue(r[1], today),
                    "renewable": refusal is None,
                    "renewalBlockedBy": refusal.code.value if refusal is not None else None,
                    "record": {"id": gid("Record", r[7]), "title": r[8]},
                    "copy": {"library": {"name": libs[r[6]][1]}},
                }
            )
        return _json({"data": {"myLoans": items}})

    async def my_holds(self, request: Request) -> Response:
        """``MyHolds`` (and the libraries it lists for the pickup choice): each hold with
        its title, its place in the waiting line and the line's length."""
        found = await self._patron_rows(
            request,
            MY_HOLDS,
        )
        if found is None:
            return _json(UNAUTHENTICATED)
        holds, libs = found
        items = []
        for h in holds:
            waiting = h[1] == "WAITING"
            items.append(
                {
                    "id": gid("Hold", h[0]),
                    "state": h[1],
                    "queuePosition": h[8] if waiting else None,
                    "queueLength": h[9],
                    "pickupDeadline": h[2].isoformat() if h[2] else None,
                    "pausedUntil": h[3].isoformat() if h[3] else None,
                    "canModify": waiting,
                    "placedAt": h[4],
                    "record": {"id": gid("Record", h[5]), "title": h[6]},
                    "pickupLibrary": {"id": gid("Library", h[7]), "name": libs[h[7]][1]},
                }
            )
        libraries = [
            {"id": gid("Library", i), "name": lib[1], "takesHolds": lib[3]}
            for i, lib in libs.items()
        ]
        return _json({"data": {"myHolds": items, "libraries": libraries}})


def create_app(
    settings: Settings | None = None, on_statement: Callable[[], None] | None = None
) -> Starlette:
    """The raw app, configured from the same ``HONDANA_*`` variables as the real one;
    ``on_statement`` is called for each statement sent (launch.py's counter)."""
    from raw_holds import HoldEndpoints  # here: raw_holds imports this module's helpers

    raw = Raw(settings or Settings(), on_statement)
    holds = HoldEndpoints(raw)

    async def healthz(_: Request) -> Response:
        return _json({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/search", raw.search, methods=["POST"]),
            Route("/record", raw.record, methods=["POST"]),
            Route("/my-loans", raw.my_loans, methods=["POST"]),
            Route("/my-holds", raw.my_holds, methods=["POST"]),
            Route("/add-to-basket", holds.add_to_basket, methods=["POST"]),
            Route("/place-holds", holds.place_holds, methods=["POST"]),
            Route("/cancel-hold", holds.cancel_hold, methods=["POST"]),
        ],
        lifespan=raw.lifespan,
    )
    app.state.raw = raw
    return app
