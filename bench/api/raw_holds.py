"""The web OPAC's two-step hold on raw.py's terms: ``AddToBasket``, ``PlaceHolds`` and
``CancelHold`` as hand-written SQL over asyncpg or aiosqlite (``/add-to-basket``, ``/place-holds``,
``/cancel-hold``), served by raw.py's app.

Each endpoint sends, on one pooled connection and inside one transaction where the API
uses one, the statements the API sends, in its order and with its locks
(``resolvers/circulation/basket.py`` ``add``, ``holds.py`` ``place``,
``hold_changes.py`` ``cancel`` and ``shared/privacy.py`` ``settle``), and answers the
``data`` the OPAC's documents select. The rules themselves are Hondana's pure functions
(``policies``: the hold checks, the overdue and card blocks; ``privacy.day_of``), and the
messages of ``UserError`` are the API's table, so a refusal reads the same on both sides.
The refusals the benchmark never meets (an e-book, a full basket, a bad pickup library)
are answered with the API's code, message, field and rule, without the API's finer
top-level error extensions.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
from raw import UNAUTHENTICATED, Raw, _json, _pk, gid
from starlette.requests import Request
from starlette.responses import Response

from policies.cards import check_card_valid, check_hold_blocks
from policies.circulation import (
    ACTIVE_HOLD_STATES,
    Category,
    CopyFacts,
    HoldRequest,
    category,
    check_hold,
    check_modifiable,
)
from policies.clock import library_today
from policies.enums import CopyStatus, HoldState, MaterialType
from policies.errors import ErrorCode, RuleViolation
from resolvers.circulation.holds import check_batch
from resolvers.shared.privacy import day_of
from schema.shared.messages import message

LOCK_PATRON = "SELECT id FROM patrons WHERE id = $1 FOR UPDATE"
# basket.py's _FILL: the entries' ids and titles (how many, and this title's entry).
FILL = "SELECT id, record_id FROM basket_entries WHERE patron_id = $1"
ACTIVE = (
    "SELECT h.record_id, r.material_type FROM holds h JOIN records r ON r.id = h.record_id "
    "WHERE h.patron_id = $1 AND h.state = ANY($2)"
)
ON_LOAN = (
    "SELECT c.record_id FROM copies c JOIN loans l ON l.copy_id = c.id "
    "WHERE l.patron_id = $1 AND l.returned_at IS NULL"
)
INSERT_HOLD = (
    "INSERT INTO holds (patron_id, record_id, pickup_library_id, state, placed_at) "
    "VALUES ($1, $2, $3, 'WAITING', $4) RETURNING id"
)
QUEUES = (
    "SELECT record_id, id, patron_id FROM holds WHERE record_id = ANY($1) AND state = 'WAITING' "
    "ORDER BY record_id, placed_at, id"
)
ACTIVE_STATES = sorted(s.value for s in ACTIVE_HOLD_STATES)
CLOSED_STATES = [HoldState.COLLECTED.value, HoldState.CANCELLED.value, HoldState.EXPIRED.value]
# privacy.KINDS by hand, in its order: the patron's ended rows as (kind, id) in one
# statement; then, for each kind, its rows' instants (coarsened to the library day) and
# the UPDATE that makes one forget its patron.
ENDED = (
    "SELECT 0, id FROM loans WHERE patron_id = $1 AND returned_at IS NOT NULL UNION ALL "
    "SELECT 1, id FROM holds WHERE patron_id = $1 "
    "AND state IN ('COLLECTED', 'CANCELLED', 'EXPIRED') UNION ALL "
    "SELECT 2, id FROM ebook_loans WHERE patron_id = $1 AND returned_at IS NOT NULL UNION ALL "
    "SELECT 3, id FROM ebook_holds WHERE patron_id = $1 "
    "AND state IN ('COLLECTED', 'CANCELLED', 'EXPIRED')"
)
FORGET = (
    (
        "SELECT id, loaned_at, returned_at FROM loans WHERE id = ANY($1)",
        "UPDATE loans SET patron_id = NULL, loaned_at = $2, returned_at = $3 WHERE id = $1",
    ),
    (
        "SELECT id, placed_at, ready_at, closed_at FROM holds WHERE id = ANY($1)",
        "UPDATE holds SET patron_id = NULL, copy_id = NULL, placed_at = $2, ready_at = $3, "
        "closed_at = $4 WHERE id = $1",
    ),
    (
        "SELECT id, borrowed_at, due_at, returned_at FROM ebook_loans WHERE id = ANY($1)",
        "UPDATE ebook_loans SET patron_id = NULL, borrowed_at = $2, due_at = $3, "
        "returned_at = $4 WHERE id = $1",
    ),
    (
        "SELECT id, placed_at, ready_at, expires_at, closed_at FROM ebook_holds WHERE id = ANY($1)",
        "UPDATE ebook_holds SET patron_id = NULL, placed_at = $2, ready_at = $3, "
        "expires_at = $4, closed_at = $5 WHERE id = $1",
    ),
)


def user_error(no: RuleViolation) -> dict[str, Any]:
    """A refusal as the documents select a ``UserError`` (Japanese, the API's default)."""
    return {
        "code": no.code.value,
        "message": message(no.code, "ja", no.params),
        "field": no.field,
        "rule": no.rule,
    }


def top_level(no: RuleViolation) -> dict[str, Any]:
    """A guard's refusal (CARD-1..3) as a top-level error, ``data`` null."""
    return {
        "data": None,
        "errors": [{"message": message(no.code, "ja", no.params), "extensions": {
            "code": no.code.value, "rule": no.rule}}],
    }  # fmt: skip


def _variables(body: bytes) -> dict[str, Any]:
    found = orjson.loads(body).get("variables") or {}
    return found if isinstance(found, dict) else {}


class HoldEndpoints:
    """``/add-to-basket``, ``/place-holds`` and ``/cancel-hold`` over raw.py's pool."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw

    async def add_to_basket(self, request: Request) -> Response:
        """``AddToBasket``: the title in the basket (or its entry if there already)."""
        pk = _pk("Record", str(_variables(await request.body()).get("recordId", "")))
        assert self.raw.pool is not None
        async with self.raw.pool.acquire() as conn:
            viewer = await self.raw._viewer(conn, request)
            if viewer is None:
                return _json(UNAUTHENTICATED)
            try:
                if pk is None:
                    raise RuleViolation(ErrorCode.NOT_FOUND, field="recordId")
                async with conn.transaction():
                    entry_id, record_id, title = await self._add(conn, viewer[0], pk)
            except RuleViolation as no:
                return _json({"data": {"addToBasket": {"entry": None, "errors": [user_error(no)]}}})
        entry = {"id": gid("BasketEntry", entry_id),
                 "record": {"id": gid("Record", record_id), "title": title}}  # fmt: skip
        return _json({"data": {"addToBasket": {"entry": entry, "errors": []}}})

    async def _add(self, conn: Any, patron: int, record_id: int) -> tuple[int, int, str]:
        """``basket.add`` in the caller's transaction: (entry id, record id, title); the
        title read here is the answer's, as the API hands it to its record loader."""
        await conn.execute(LOCK_PATRON, patron)
        found = await conn.fetchrow(
            "SELECT material_type, title FROM records WHERE id = $1", record_id
        )
        if found is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="recordId")
        material, title = found
        if material == MaterialType.EBOOK.value:
            raise RuleViolation(
                ErrorCode.EBOOK_NOT_ALLOWED, "BASKET-3", field="recordId", variant="BASKET"
            )
        entries = await conn.fetch(FILL, patron)
        existing_id = next((r[0] for r in entries if r[1] == record_id), None)
        if existing_id is not None:
            row = await conn.fetchrow(
                "SELECT id, record_id FROM basket_entries WHERE id = $1", existing_id
            )
            if row is not None:
                return int(row[0]), int(row[1]), title
        limit = self.raw.policy.circulation.basket_max
        if len(entries) >= limit:
            raise RuleViolation(ErrorCode.BASKET_FULL, "BASKET-1", limit=limit)
        entry_id = await conn.fetchval(
            "INSERT INTO basket_entries (patron_id, record_id, added_at) VALUES ($1, $2, $3) "
            "RETURNING id",
            patron,
            record_id,
            datetime.now(UTC),
        )
        return int(entry_id), record_id, title

    async def place_holds(self, request: Request) -> Response:
        """``PlaceHolds`` (予約結果): holds for basket entries, each title on its own."""
        variables = _variables(await request.body())
        given = [str(i) for i in variables.get("basketEntryIds") or []]
        wanted = variables.get("pickupLibraryId")
        pickup = None if wanted is None else _pk("Library", str(wanted)) or 0
        assert self.raw.pool is not None
        async with self.raw.pool.acquire() as conn:
            viewer = await self.raw._viewer(conn, request)
            if viewer is None:
                return _json(UNAUTHENTICATED)
            try:  # the HOLDING guard: the card, then the open loans' due days
                now = datetime.now(UTC)
                check_card_valid(viewer[1], library_today(now, self.raw.policy.service.timezone))
                await self._not_blocked(conn, viewer[0], now)
            except RuleViolation as no:
                return _json(top_level(no))
            keys = [_pk("BasketEntry", i) for i in given]
            try:
                check_batch([k for k in keys if k is not None], "basketEntryIds")
                async with conn.transaction():
                    answer = await self._place(conn, viewer[0], keys, given, pickup)
            except RuleViolation as no:
                answer = {"pickupLibrary": None, "results": [], "errors": [user_error(no)]}
        return _json({"data": {"placeHolds": answer}})

    async def _not_blocked(self, conn: Any, patron: int, now: datetime) -> None:
        """``NotOverdueBlocked``: the open-loans loader's read, then CARD-2/3."""
        loans = await conn.fetch(
            "SELECT due_on FROM loans WHERE patron_id = ANY($1) AND returned_at IS NULL "
            "ORDER BY due_on, id",
            [patron],
        )
        today = library_today(now, self.raw.policy.service.timezone)
        check_hold_blocks([r[0] for r in loans], today, self.raw.policy.circulation)

    async def _place(
        self, conn: Any, patron: int, keys: list[int | None], given: list[str], pickup: int | None
    ) -> dict[str, Any]:
        """``holds.place(confirm=True)`` in the caller's transaction, as the payload."""
        default = await conn.fetchval(  # the patron locked and read in one, as the API
            "SELECT default_pickup_library_id FROM patrons WHERE id = $1 FOR UPDATE", patron
        )
        chosen = pickup if pickup is not None else default
        library = None if chosen is None else await conn.fetchrow(
            "SELECT id, name, takes_holds FROM libraries WHERE id = $1", chosen
        )  # fmt: skip
        if library is None or not library[2]:
            raise RuleViolation(ErrorCode.INVALID_PICKUP_LIBRARY, field="pickupLibraryId")
        facts = await self._facts(conn, patron, [k for k in keys if k is not None])
        results, allowed = self._decide(facts, keys, given)
        now = datetime.now(UTC)
        placed = await self._write(conn, (patron, library[0], now), allowed)
        lib = {"id": gid("Library", library[0]), "name": library[1]}
        for result, (record, hold_id, queue) in zip(allowed, placed, strict=True):
            position = next(i + 1 for i, row in enumerate(queue) if row[1] == hold_id)
            result["hold"] = {
                "id": gid("Hold", hold_id), "state": "WAITING", "queuePosition": position,
                "queueLength": len(queue), "pickupDeadline": None, "pausedUntil": None,
                "canModify": True, "placedAt": now, "record": record,
                "pickupLibrary": lib,
            }  # fmt: skip
        return {"pickupLibrary": lib, "results": results, "errors": []}

    async def _facts(self, conn: Any, patron: int, known: list[int]) -> dict[str, Any]:
        """``holds._read_facts`` after the pickup library: entries, titles, copies, the
        patron's active holds and open loans."""
        entries = {r[0]: r[1] for r in await conn.fetch(
            "SELECT id, record_id, patron_id FROM basket_entries WHERE id = ANY($1)", known)
            if r[2] == patron}  # fmt: skip
        record_ids = sorted(set(entries.values()))
        records = {r[0]: r for r in await conn.fetch(
            "SELECT id, title, material_type FROM records WHERE id = ANY($1)", record_ids)}  # fmt: skip
        copies: dict[int, list[CopyFacts]] = {rid: [] for rid in record_ids}
        for c in await conn.fetch(
            "SELECT record_id, reference_only, from_other_city, status FROM copies "
            "WHERE record_id = ANY($1)",
            record_ids,
        ):
            copies[c[0]].append(CopyFacts(c[1], c[2], c[3] == CopyStatus.WITHDRAWN.value))
        active = await conn.fetch(ACTIVE, patron, ACTIVE_STATES)
        on_loan = {r[0] for r in await conn.fetch(ON_LOAN, patron)}
        per_category: Counter[Category | None] = Counter(
            category(MaterialType(m)) for _, m in active
        )
        return {"entries": entries, "records": records, "copies": copies,
                "held": {rid for rid, _ in active}, "per_category": per_category,
                "on_loan": on_loan}  # fmt: skip

    def _decide(
        self, facts: dict[str, Any], keys: list[int | None], given: list[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``holds._decide``: each entry's result; later titles of the batch see the
        earlier ones counted and held. Returns every result and those to place."""
        results: list[dict[str, Any]] = []
        allowed: list[dict[str, Any]] = []
        for key, echo in zip(keys, given, strict=True):
            record_id = facts["entries"].get(key) if key is not None else None
            result: dict[str, Any] = {"basketEntryId": echo, "ok": True, "record": None,
                                      "hold": None, "errors": []}  # fmt: skip
            results.append(result)
            if record_id is None:
                nf = RuleViolation(ErrorCode.NOT_FOUND, field="basketEntryIds")
                result.update(ok=False, errors=[user_error(nf)])
                continue
            row = facts["records"][record_id]
            result["record"] = {"id": gid("Record", row[0]), "title": row[1]}
            material = MaterialType(row[2])
            request = HoldRequest(
                material=material,
                copies=tuple(facts["copies"][record_id]),
                already_held=record_id in facts["held"],
                on_loan_to_patron=record_id in facts["on_loan"],
            )
            cat = category(material)
            try:
                check_hold(request, facts["per_category"][cat], self.raw.policy.circulation)
            except RuleViolation as no:
                result.update(ok=False, errors=[user_error(no)])
                continue
            facts["per_category"][cat] += 1
            facts["held"].add(record_id)
            result["_entry"], result["_record"] = key, record_id
            allowed.append(result)
        return results, allowed

    async def _write(
        self, conn: Any, who: tuple[int, int, datetime], allowed: list[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], int, list[Any]]]:
        """``holds._write``: the placed entries out of the basket, the holds in (``who``:
        patron, pickup library, placed at), then the titles' waiting lines, all in the
        transaction. One (record, hold id, line) per placed title."""
        patron, pickup, now = who
        if allowed:
            await conn.execute(
                "DELETE FROM basket_entries WHERE id = ANY($1)", [r.pop("_entry") for r in allowed]
            )
        made = []
        for result in allowed:
            hold_id = await conn.fetchval(INSERT_HOLD, patron, result["_record"], pickup, now)
            made.append((result, int(hold_id)))
        record_ids = sorted({r["_record"] for r in allowed})
        lines: dict[int, list[Any]] = {rid: [] for rid in record_ids}
        for row in await conn.fetch(QUEUES, record_ids) if record_ids else []:
            lines[row[0]].append(row)
        return [(r["record"], h, lines[r.pop("_record")]) for r, h in made]

    async def cancel_hold(self, request: Request) -> Response:
        """``CancelHold``: the patron's WAITING hold cancelled under the patron's and the
        hold's locks, then the privacy rule settled in the same transaction."""
        hold_id = _pk("Hold", str(_variables(await request.body()).get("holdId", ""))) or 0
        assert self.raw.pool is not None
        async with self.raw.pool.acquire() as conn:
            viewer = await self.raw._viewer(conn, request)
            if viewer is None:
                return _json(UNAUTHENTICATED)
            try:
                async with conn.transaction():
                    state = await self._cancel(conn, viewer[0], hold_id)
            except RuleViolation as no:
                return _json({"data": {"cancelHold": {"hold": None, "errors": [user_error(no)]}}})
        hold = {"id": gid("Hold", hold_id), "state": state}
        return _json({"data": {"cancelHold": {"hold": hold, "errors": []}}})

    async def _cancel(self, conn: Any, patron: int, hold_id: int) -> str:
        """``hold_changes._modify`` with ``cancel``'s values, in the caller's transaction."""
        await conn.execute(LOCK_PATRON, patron)  # the patron before the hold, as the desk
        row = await conn.fetchrow(
            "SELECT patron_id, state, placed_at, ready_at FROM holds WHERE id = $1 FOR UPDATE",
            hold_id,
        )
        if row is None or row[0] != patron:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="holdId")
        check_modifiable(HoldState(row[1]))
        now = datetime.now(UTC)
        # privacy.settle: the opt-in read under the patron's lock, then every ended row
        # forgotten; the hold is written once, cancelled and (unless kept) forgotten.
        keeps = await conn.fetchval(
            "SELECT keep_reading_history FROM patrons WHERE id = $1", patron
        )
        if keeps:
            await conn.execute(
                "UPDATE holds SET state = 'CANCELLED', closed_at = $2 WHERE id = $1", hold_id, now
            )
        else:
            await self._forget_ended(conn, patron, (hold_id, row[2], row[3], now))
        return HoldState.CANCELLED.value

    async def _forget_ended(self, conn: Any, patron: int, ending: tuple[Any, ...]) -> None:
        """``privacy.forget_ended`` with ``ended_now``: every ended loan and hold of the
        patron forgets them, its instants coarsened to the library day; ``ending`` (id and
        instants of the hold being cancelled, which the database does not yet hold as
        ended) is cancelled and forgotten in one UPDATE, as the API's session flushes it."""
        tz = self.raw.policy.service.timezone

        def coarse(values: tuple[Any, ...]) -> tuple[Any, ...]:
            return (values[0], *(None if v is None else day_of(v, tz) for v in values[1:]))

        ended: dict[int, list[int]] = {}
        for kind, row_id in await conn.fetch(ENDED, patron):
            ended.setdefault(kind, []).append(row_id)
        for kind, ids in ended.items():
            read, forget = FORGET[kind]
            await conn.executemany(forget, [coarse(tuple(r)) for r in await conn.fetch(read, ids)])
        await conn.execute(
            "UPDATE holds SET state = 'CANCELLED', patron_id = NULL, copy_id = NULL, "
            "placed_at = $2, ready_at = $3, closed_at = $4 WHERE id = $1",
            *coarse(ending),
        )
