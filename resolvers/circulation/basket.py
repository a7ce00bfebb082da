"""The basket (予約かご): titles saved for later, not yet holds (BASKET-1..4)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, case, delete, func, select

from models import BasketEntry, Patron, Record
from models.db import lock_row
from policies.enums import MaterialType
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared.context import Context, PatronViewer


async def entries(ctx: Context, viewer: PatronViewer) -> Sequence[BasketEntry]:
    """The patron's basket, oldest first."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(BasketEntry)
            .where(BasketEntry.patron_id == viewer.patron_id)
            .order_by(BasketEntry.added_at, BasketEntry.id)
        )
        return rows.scalars().all()


# What the basket holds for an add, in one statement built once: how many entries, and
# the entry of this title if it is there already.
_FILL = select(
    func.count(),
    func.max(case((BasketEntry.record_id == bindparam("record"), BasketEntry.id))),
).where(BasketEntry.patron_id == bindparam("patron"))


async def add(ctx: Context, viewer: PatronViewer, record_id: int) -> BasketEntry:
    """Put a title in the basket: at most N titles (BASKET-1), each once, no e-books (BASKET-3).

    Adding a title already there answers its existing entry (the basket is a set).
    """
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, viewer.patron_id)
        record = await db.get(Record, record_id)
        if record is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="recordId")
        if record.material_type is MaterialType.EBOOK:
            raise RuleViolation(
                ErrorCode.EBOOK_NOT_ALLOWED, "BASKET-3", field="recordId", variant="BASKET"
            )
        fill = await db.execute(_FILL, {"record": record_id, "patron": viewer.patron_id})
        count, existing_id = fill.one()
        # (``removeFromBasket`` takes no lock: the entry may have gone since; then add it.)
        existing = None if existing_id is None else await db.get(BasketEntry, existing_id)
        if existing is not None:
            return existing
        limit = ctx.policy.circulation.basket_max
        if count >= limit:
            raise RuleViolation(ErrorCode.BASKET_FULL, "BASKET-1", limit=limit)
        entry = BasketEntry(
            patron_id=viewer.patron_id, record_id=record_id, added_at=ctx.services.clock.now()
        )
        db.add(entry)
    return entry


async def remove(ctx: Context, viewer: PatronViewer, entry_ids: Sequence[int | None]) -> int:
    """Take entries out of the basket, all or nothing: an id that is not one of the
    patron's entries (malformed, gone already, or another patron's) answers ``NOT_FOUND``
    and removes nothing, so another patron's ids look exactly like missing ones."""
    wanted = {i for i in entry_ids if i is not None}
    async with ctx.services.sessions() as db, db.begin():
        result = await db.execute(
            delete(BasketEntry).where(
                BasketEntry.patron_id == viewer.patron_id, BasketEntry.id.in_(wanted)
            )
        )
        removed = int(result.rowcount)  # type: ignore[attr-defined]
        if removed != len(wanted) or None in entry_ids:
            raise RuleViolation(ErrorCode.NOT_FOUND, "BASKET-1", field="basketEntryIds")
    return removed
