"""The baseline of the API benchmark: plain Starlette JSON endpoints, no GraphQL.

Each endpoint does the work the GraphQL operation of the same name does — the same session
lookup, the same resolvers and loaders, so the same SQL statements (``run.py`` counts them on
both sides and checks the answers are equal) — and builds the same JSON ``data`` by hand.
What is left out is exactly the GraphQL layer: parsing and validating the document (or
looking up a trusted one), the middleware stack, field-by-field execution with permission
extensions, and result building. ``run.py`` starts it under uvicorn:

    uvicorn --factory bench.api.plain:create_app
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models import Copy, Hold, Loan, Record  # noqa: E402
from models.db import create_engine, create_session_factory  # noqa: E402
from policies.cards import days_overdue  # noqa: E402
from policies.clock import SystemClock  # noqa: E402
from policies.enums import CopyStatus, HoldState, MaterialType  # noqa: E402
from resolvers.accounts.sessions import viewer_for_token  # noqa: E402
from resolvers.catalogue import catalogue  # noqa: E402
from resolvers.catalogue import search as search_resolvers  # noqa: E402
from resolvers.circulation import hold_list, loans  # noqa: E402
from resolvers.shared.context import Anonymous, Context, PatronViewer, Services, Viewer  # noqa: E402
from resolvers.shared.loaders import Availability, Loaders, existing  # noqa: E402
from server.app import make_hasher  # noqa: E402
from server.settings import Settings  # noqa: E402


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


class JSON(JSONResponse):
    """UTF-8 JSON without ``\\u`` escapes, as the GraphQL endpoint encodes it."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


class Plain:
    """The four endpoints over one set of services (as ``create_app`` builds them)."""

    def __init__(self, settings: Settings) -> None:
        engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        self.engine = engine
        self.services = Services(
            policy=settings.policy.to_policy(),
            clock=SystemClock(),
            sessions=create_session_factory(engine),
            hasher=make_hasher(settings),
            secure_cookies=True,
            production=True,
        )

    async def _context(self, request: Request) -> Context:
        auth = request.headers.get("authorization", "")
        viewer: Viewer = Anonymous()
        loaders = Loaders(self.services.sessions)
        request.state.reads = loaders.reads  # closed by ``closing`` (as server/graphql.py)
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
            viewer = await viewer_for_token(
                self.services, token, via_cookie=False, reads=loaders.reads
            )
        return Context(
            services=self.services,
            viewer=viewer,
            locale="ja",
            request_id="-",
            loaders=loaders,
        )

    async def _library(self, ctx: Context, library_id: int, *, with_id: bool) -> dict[str, Any]:
        lib = await existing(ctx.loaders.library, library_id)
        return {"id": gid("Library", lib.id), "name": lib.name} if with_id else {"name": lib.name}

    async def _availability(self, ctx: Context, record_id: int) -> list[dict[str, Any]]:
        rows: list[Availability] = await ctx.loaders.availability_by_record.load(record_id)
        libs = await asyncio.gather(*(self._library(ctx, r.library_id, with_id=True) for r in rows))
        return [
            {"library": lib, "copies": r.copies, "available": r.available}
            for r, lib in zip(rows, libs, strict=True)
        ]

    async def _holdable(self, ctx: Context, row: Record) -> bool:
        if row.material_type in (MaterialType.ART_REPRODUCTION, MaterialType.EBOOK):
            return False
        rows = await ctx.loaders.availability_by_record.load(row.id)
        return any(r.holdable for r in rows)

    async def _record_summary(self, ctx: Context, row: Record) -> dict[str, Any]:
        holdable, availability = await asyncio.gather(
            self._holdable(ctx, row), self._availability(ctx, row.id)
        )
        return _summary_fields(row, holdable, availability)

    async def search(self, request: Request) -> Response:
        """``Search`` (clients/web-opac/Search.graphql) with ``query`` and ``first``."""
        ctx = await self._context(request)
        body = await request.json()
        variables = body.get("variables", {})
        first = int(variables.get("first", 20))
        req = search_resolvers.SearchRequest(query=str(variables.get("query", "")))
        page = await search_resolvers.search(ctx, req, first, None)

        async def library_facets() -> list[dict[str, Any]]:
            counts = await search_resolvers.library_counts(ctx, page.matches)
            libs = await asyncio.gather(*(self._library(ctx, i, with_id=True) for i, _ in counts))
            return [{"count": n, "library": lib} for (_, n), lib in zip(counts, libs, strict=True)]

        async def type_facets() -> list[dict[str, Any]]:
            counts = await search_resolvers.material_type_counts(ctx, page.matches)
            return [{"materialType": m.value, "count": n} for m, n in counts]

        nodes, types, libraries = await asyncio.gather(
            asyncio.gather(*(self._record_summary(ctx, r) for r in page.records)),
            type_facets(),
            library_facets(),
        )
        cursors = [
            base64.urlsafe_b64encode(f"k:{r.id}".encode()).decode().rstrip("=")
            for r in page.records
        ]
        data = {
            "search": {
                "totalCount": page.total,
                "pageInfo": {
                    "hasNextPage": page.has_next,
                    "endCursor": cursors[-1] if cursors else None,
                },
                "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
                "materialTypeFacets": types,
                "libraryFacets": libraries,
            }
        }
        return JSON({"data": data})

    async def record(self, request: Request) -> Response:
        """``RecordDetail`` (clients/web-opac/RecordDetail.graphql)."""
        ctx = await self._context(request)
        body = await request.json()
        pk = _pk("Record", str(body.get("variables", {}).get("id", "")))
        row: Record | None = await catalogue.record(ctx, pk) if pk is not None else None
        if row is None:
            return JSON({"data": {"record": None}})

        async def copies() -> list[dict[str, Any]]:
            rows: Sequence[Copy] = await ctx.loaders.copies_by_record.load(row.id)
            shown = [c for c in rows if c.status != CopyStatus.WITHDRAWN]
            libs = await asyncio.gather(
                *(self._library(ctx, c.library_id, with_id=True) for c in shown)
            )
            dues = await asyncio.gather(*(self._due_on(ctx, c) for c in shown))
            return [
                {
                    "id": gid("Copy", c.id),
                    "status": c.status.value,
                    "callNumber": c.shelf_mark,
                    "shelfLocation": c.shelf_location,
                    "dueOn": _iso(due),
                    "referenceOnly": c.reference_only,
                    "library": lib,
                }
                for c, lib, due in zip(shown, libs, dues, strict=True)
            ]

        holdable, availability, copy_list, queue = await asyncio.gather(
            self._holdable(ctx, row),
            self._availability(ctx, row.id),
            copies(),
            ctx.loaders.queue_by_record.load(row.id),
        )
        data = {
            "record": {
                **_summary_fields(row, holdable, availability),
                "titleReading": row.title_reading,
                "subjectClass": row.subject_class,
                "subjects": [s for s in (row.subjects or "").split(" | ") if s],
                "series": row.series,
                "volume": row.volume,
                "isComic": row.is_comic,
                "holdCount": len(queue),
                "copies": copy_list,
            }
        }
        return JSON({"data": data})

    @staticmethod
    async def _due_on(ctx: Context, copy: Copy) -> date | None:
        if copy.status != CopyStatus.ON_LOAN:
            return None
        loans: Sequence[Loan] = await ctx.loaders.open_loans_by_copy.load(copy.id)
        return loans[0].due_on if loans else None

    def _patron(self, ctx: Context) -> PatronViewer | None:
        # The GraphQL side's Authenticated + ActivePassword checks, on the same viewer facts.
        viewer = ctx.viewer
        if isinstance(viewer, PatronViewer) and viewer.password_state.value == "ACTIVE":
            return viewer
        return None

    async def my_loans(self, request: Request) -> Response:
        """``MyLoans`` (clients/web-opac/MyLoans.graphql)."""
        ctx = await self._context(request)
        viewer = self._patron(ctx)
        if viewer is None:
            return JSON({"data": None, "errors": [{"extensions": {"code": "UNAUTHENTICATED"}}]})
        rows: Sequence[Loan] = await loans.open_loans(ctx, viewer.patron_id)
        today = ctx.today()

        async def one(loan: Loan) -> dict[str, Any]:
            async def record() -> dict[str, Any]:
                c = await existing(ctx.loaders.copy, loan.copy_id)
                r = await existing(ctx.loaders.record, c.record_id)
                return {"id": gid("Record", r.id), "title": r.title}

            async def copy() -> dict[str, Any]:
                c = await existing(ctx.loaders.copy, loan.copy_id)
                lib = await self._library(ctx, c.library_id, with_id=False)
                return {"library": lib}

            renewable, blocked, rec, cp = await asyncio.gather(
                loans.renewal_check(ctx, loan), loans.renewal_check(ctx, loan), record(), copy()
            )
            return {
                "id": gid("Loan", loan.id),
                "dueOn": loan.due_on.isoformat(),
                "renewals": loan.renewals,
                "daysOverdue": days_overdue(loan.due_on, today),
                "renewable": renewable is None,
                "renewalBlockedBy": blocked.code.value if blocked is not None else None,
                "record": rec,
                "copy": cp,
            }

        items = await asyncio.gather(*(one(loan) for loan in rows))
        return JSON({"data": {"myLoans": list(items)}})

    async def my_holds(self, request: Request) -> Response:
        """``MyHolds`` (clients/web-opac/MyHolds.graphql)."""
        ctx = await self._context(request)
        viewer = self._patron(ctx)
        if viewer is None:
            return JSON({"data": None, "errors": [{"extensions": {"code": "UNAUTHENTICATED"}}]})
        rows = [hold for hold, _ in await hold_list.active_holds(ctx, viewer)]

        async def one(hold: Hold) -> dict[str, Any]:
            async def record() -> dict[str, Any]:
                r = await existing(ctx.loaders.record, hold.record_id)
                return {"id": gid("Record", r.id), "title": r.title}

            queue, rec, lib = await asyncio.gather(
                ctx.loaders.queue_by_record.load(hold.record_id),
                record(),
                self._library(ctx, hold.pickup_library_id, with_id=True),
            )
            waiting = hold.state is HoldState.WAITING
            position = (
                next((i + 1 for i, (hid, _) in enumerate(queue) if hid == hold.id), None)
                if waiting
                else None
            )
            return {
                "id": gid("Hold", hold.id),
                "state": hold.state.value,
                "queuePosition": position,
                "queueLength": len(queue),
                "pickupDeadline": _iso(hold.pickup_deadline),
                "pausedUntil": _iso(hold.paused_until),
                "canModify": waiting,
                "placedAt": hold.placed_at.isoformat(),
                "record": rec,
                "pickupLibrary": lib,
            }

        items = await asyncio.gather(*(one(h) for h in rows))
        libraries = [
            {"id": gid("Library", lib.id), "name": lib.name, "takesHolds": lib.takes_holds}
            for lib in await ctx.loaders.all_libraries()
        ]
        return JSON({"data": {"myHolds": list(items), "libraries": libraries}})


def create_app(settings: Settings | None = None) -> Starlette:
    """The plain app, configured from the same ``HONDANA_*`` variables as the real one."""
    plain = Plain(settings or Settings())

    async def healthz(_: Request) -> Response:
        return JSON({"status": "ok"})

    def closing(
        endpoint: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                return await endpoint(request)
            finally:
                if (reads := getattr(request.state, "reads", None)) is not None:
                    await reads.close()

        return run

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/search", closing(plain.search), methods=["POST"]),
            Route("/record", closing(plain.record), methods=["POST"]),
            Route("/my-loans", closing(plain.my_loans), methods=["POST"]),
            Route("/my-holds", closing(plain.my_holds), methods=["POST"]),
        ]
    )
    app.state.plain = plain
    return app


def _summary_fields(
    row: Record, holdable: bool, availability: list[dict[str, Any]]
) -> dict[str, Any]:
    """The fields a search hit and the record detail both select."""
    return {
        "id": gid("Record", row.id),
        "title": row.title,
        "responsibility": row.responsibility,
        "publisher": row.publisher,
        "year": row.year,
        "materialType": row.material_type.value,
        "isbn": row.isbn,
        "holdable": holdable,
        "availability": availability,
    }
