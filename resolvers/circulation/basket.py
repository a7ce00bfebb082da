"""The basket (予約かご): titles saved for later, not yet holds (BASKET-1..4)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, insert, select

from models import BasketEntry, Patron, Record
from models.db import lock_row
from models.driver_reads import KEYS, DriverSelect, fetch_in
from models.driver_writes import DriverWrite
from policies.enums import MaterialType
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared.context import Context, PatronViewer
from resolvers.shared.loaders import by_id


async def entries(ctx: Context, viewer: PatronViewer) -> Sequence[BasketEntry]:
    """The patron's basket, oldest first."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(BasketEntry)
            .where(BasketEntry.patron_id == viewer.patron_id)
            .order_by(BasketEntry.added_at, BasketEntry.id)
        )
        return rows.scalars().all()


# What the basket holds for an add, read by the driver in the add's transaction: its
# entries' ids and titles (the patron's id is the one key): how many, and this title's.
_FILL = DriverSelect(
    select(BasketEntry.id, BasketEntry.record_id).where(BasketEntry.patron_id.in_(KEYS))
)


# An entry added: written by the driver in the add's transaction, the row back whole.
_INSERT = DriverWrite(
    insert(BasketEntry)
    .values(
        patron_id=bindparam("patron"),
        record_id=bindparam("record"),
        added_at=bindparam("at", type_=BasketEntry.__table__.c.added_at.type),
    )
    .returning(*BasketEntry.__table__.c),
    BasketEntry,
)


async def add(ctx: Context, viewer: PatronViewer, record_id: int) -> BasketEntry:
    """Put a title in the basket: at most N titles (BASKET-1), each once, no e-books (BASKET-3).

    Adding a title already there answers its existing entry (the basket is a set). The
    title read here goes to the request's record loader: the answer's ``record`` is it.
    """
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, viewer.patron_id)
        found = await fetch_in(db, by_id(Record), [record_id])
        if not found:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="recordId")
        record: Record = found[0]
        if record.material_type is MaterialType.EBOOK:
            raise RuleViolation(
                ErrorCode.EBOOK_NOT_ALLOWED, "BASKET-3", field="recordId", variant="BASKET"
            )
        entries = await fetch_in(db, _FILL, [viewer.patron_id])
        existing_id = next((i for i, title in entries if title == record_id), None)
        # (``removeFromBasket`` takes no lock: the entry may have gone since; then add it.)
        existing = None if existing_id is None else await db.get(BasketEntry, existing_id)
        if existing is None:
            limit = ctx.policy.circulation.basket_max
            if len(entries) >= limit:
                raise RuleViolation(ErrorCode.BASKET_FULL, "BASKET-1", limit=limit)
            [existing] = await _INSERT.run(
                db, patron=viewer.patron_id, record=record_id, at=ctx.services.clock.now()
            )
    ctx.loaders.record.prime(record.id, record)
    return existing


# Entries taken out: the patron's own among the ids, each id back (driver, in the
# removal's transaction).
_REMOVE = DriverSelect(
    delete(BasketEntry)
    .where(BasketEntry.patron_id == bindparam("patron"), BasketEntry.id.in_(KEYS))
    .returning(BasketEntry.id),
    params=("patron",),
)


async def remove(ctx: Context, viewer: PatronViewer, entry_ids: Sequence[int | None]) -> int:
    """Take entries out of the basket, all or nothing: an id that is not one of the
    patron's entries (malformed, gone already, or another patron's) answers ``NOT_FOUND``
    and removes nothing, so another patron's ids look exactly like missing ones."""
    wanted = sorted({i for i in entry_ids if i is not None})
    async with ctx.services.sessions() as db, db.begin():
        gone = await fetch_in(db, _REMOVE, wanted, patron=viewer.patron_id) if wanted else []
        if len(gone) != len(wanted) or None in entry_ids:
            raise RuleViolation(ErrorCode.NOT_FOUND, "BASKET-1", field="basketEntryIds")
    return len(gone)
