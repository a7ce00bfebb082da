"""Bookshelves (My本棚): up to 5 named lists of up to 100 titles each."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import BasketEntry, Bookshelf, BookshelfEntry, Patron, Record
from models.db import lock_row
from policies.errors import ErrorCode, RuleViolation
from policies.preferences import clean_shelf_name
from resolvers.circulation.holds import MAX_BATCH, check_batch
from resolvers.shared.context import Context, PatronViewer


async def shelves(ctx: Context, viewer: PatronViewer) -> Sequence[Bookshelf]:
    """The patron's shelves, oldest first."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(Bookshelf).where(Bookshelf.patron_id == viewer.patron_id).order_by(Bookshelf.id)
        )
        return rows.scalars().all()


async def entries(ctx: Context, shelf_id: int) -> Sequence[BookshelfEntry]:
    """A shelf's titles, newest first."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(BookshelfEntry)
            .where(BookshelfEntry.shelf_id == shelf_id)
            .order_by(BookshelfEntry.added_at.desc(), BookshelfEntry.id.desc())
        )
        return rows.scalars().all()


async def _own(
    db: AsyncSession, viewer: PatronViewer, shelf_id: int, field: str = "shelfId"
) -> Bookshelf:
    shelf = await db.get(Bookshelf, shelf_id)
    if shelf is None or shelf.patron_id != viewer.patron_id:
        raise RuleViolation(ErrorCode.NOT_FOUND, field=field)  # another patron's: not found
    return shelf


async def _name_free(
    db: AsyncSession, viewer: PatronViewer, name: str, except_id: int | None
) -> None:
    clash = select(Bookshelf.id).where(
        Bookshelf.patron_id == viewer.patron_id, Bookshelf.name == name
    )
    if except_id is not None:
        clash = clash.where(Bookshelf.id != except_id)
    if (await db.execute(clash)).first() is not None:
        raise RuleViolation(ErrorCode.NAME_TAKEN, field="name")


async def create(ctx: Context, viewer: PatronViewer, raw_name: str) -> Bookshelf:
    """A new shelf; at most N per patron."""
    name = clean_shelf_name(raw_name)
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, viewer.patron_id)
        count = (
            await db.execute(select(func.count()).where(Bookshelf.patron_id == viewer.patron_id))
        ).scalar_one()
        if count >= ctx.policy.circulation.bookshelves_max:
            raise RuleViolation(ErrorCode.SHELF_LIMIT, limit=ctx.policy.circulation.bookshelves_max)
        await _name_free(db, viewer, name, None)
        shelf = Bookshelf(
            patron_id=viewer.patron_id, name=name, created_at=ctx.services.clock.now()
        )
        db.add(shelf)
    return shelf


async def rename(ctx: Context, viewer: PatronViewer, shelf_id: int, raw_name: str) -> Bookshelf:
    """Give a shelf another name."""
    name = clean_shelf_name(raw_name)
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, viewer.patron_id)
        shelf = await _own(db, viewer, shelf_id)
        await _name_free(db, viewer, name, shelf.id)
        shelf.name = name
    return shelf


async def remove_shelf(ctx: Context, viewer: PatronViewer, shelf_id: int) -> None:
    """Delete a shelf and its titles."""
    async with ctx.services.sessions() as db, db.begin():
        shelf = await _own(db, viewer, shelf_id)
        await db.execute(delete(BookshelfEntry).where(BookshelfEntry.shelf_id == shelf.id))
        await db.delete(shelf)


async def _room(db: AsyncSession, shelf: Bookshelf, adding: int, size: int) -> None:
    count = (
        await db.execute(select(func.count()).where(BookshelfEntry.shelf_id == shelf.id))
    ).scalar_one()
    if count + adding > size:
        raise RuleViolation(ErrorCode.SHELF_FULL, field="shelfId", limit=size)


async def add(
    ctx: Context,
    viewer: PatronViewer,
    shelf_id: int,
    record_ids: Sequence[int | None],
    basket_entry_ids: Sequence[int | None],
) -> Bookshelf:
    """Put titles on a shelf, from search results (record ids) or the basket (entry ids).
    Titles already there are left as they are; all or nothing."""
    # Repeats are checked in each list on its own (a record id and a basket entry id may be
    # the same number); the size limit still counts both together.
    check_batch(record_ids, "recordIds")
    check_batch(basket_entry_ids, "basketEntryIds")
    if len(record_ids) + len(basket_entry_ids) > MAX_BATCH:
        raise RuleViolation(ErrorCode.TOO_MANY_ITEMS, field="recordIds", max=MAX_BATCH)
    now = ctx.services.clock.now()
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, viewer.patron_id)
        shelf = await _own(db, viewer, shelf_id)
        wanted = [r for r in record_ids if r is not None]
        if None in record_ids:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="recordIds")
        if basket_entry_ids:
            known = [b for b in basket_entry_ids if b is not None]
            found = dict(
                (
                    await db.execute(
                        select(BasketEntry.id, BasketEntry.record_id).where(
                            BasketEntry.id.in_(known), BasketEntry.patron_id == viewer.patron_id
                        )
                    )
                ).all()
            )
            if len(found) != len(basket_entry_ids):
                raise RuleViolation(ErrorCode.NOT_FOUND, field="basketEntryIds")
            wanted += list(found.values())
        existing_records = set(
            (await db.execute(select(Record.id).where(Record.id.in_(wanted)))).scalars()
        )
        if existing_records != set(wanted):
            raise RuleViolation(ErrorCode.NOT_FOUND, field="recordIds")
        already = set(
            (
                await db.execute(
                    select(BookshelfEntry.record_id).where(BookshelfEntry.shelf_id == shelf.id)
                )
            ).scalars()
        )
        new = list(dict.fromkeys(r for r in wanted if r not in already))
        await _room(db, shelf, len(new), ctx.policy.circulation.bookshelf_size)
        db.add_all(BookshelfEntry(shelf_id=shelf.id, record_id=r, added_at=now) for r in new)
    return shelf


async def remove_entries(
    ctx: Context, viewer: PatronViewer, entry_ids: Sequence[int | None]
) -> int:
    """Take titles off the patron's shelves, all or nothing: an id that is not one of the
    patron's entries (malformed, gone, or another patron's) answers ``NOT_FOUND`` and
    removes nothing."""
    check_batch(entry_ids, "entryIds")
    wanted = {i for i in entry_ids if i is not None}
    async with ctx.services.sessions() as db, db.begin():
        mine = select(Bookshelf.id).where(Bookshelf.patron_id == viewer.patron_id)
        result = await db.execute(
            delete(BookshelfEntry).where(
                BookshelfEntry.id.in_(wanted), BookshelfEntry.shelf_id.in_(mine)
            )
        )
        removed = int(result.rowcount)  # type: ignore[attr-defined]
        if removed != len(wanted) or None in entry_ids:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="entryIds")
    return removed


async def move(
    ctx: Context, viewer: PatronViewer, entry_ids: Sequence[int | None], to_shelf_id: int
) -> Bookshelf:
    """Move titles to another of the patron's shelves; all or nothing."""
    check_batch(entry_ids, "entryIds")
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, viewer.patron_id)
        target = await _own(db, viewer, to_shelf_id, "toShelfId")
        mine = select(Bookshelf.id).where(Bookshelf.patron_id == viewer.patron_id)
        rows = (
            (
                await db.execute(
                    select(BookshelfEntry).where(
                        BookshelfEntry.id.in_([e for e in entry_ids if e is not None]),
                        BookshelfEntry.shelf_id.in_(mine),
                    )
                )
            )
            .scalars()
            .all()
        )
        if len(rows) != len(entry_ids):
            raise RuleViolation(ErrorCode.NOT_FOUND, field="entryIds")
        there = set(
            (
                await db.execute(
                    select(BookshelfEntry.record_id).where(BookshelfEntry.shelf_id == target.id)
                )
            ).scalars()
        )
        moving = [e for e in rows if e.shelf_id != target.id]
        duplicates = [e.id for e in moving if e.record_id in there]
        arriving = [e.id for e in moving if e.record_id not in there]
        await _room(db, target, len(arriving), ctx.policy.circulation.bookshelf_size)
        if duplicates:  # already on the target shelf: the move just removes the copy
            await db.execute(delete(BookshelfEntry).where(BookshelfEntry.id.in_(duplicates)))
        if arriving:
            await db.execute(
                update(BookshelfEntry)
                .where(BookshelfEntry.id.in_(arriving))
                .values(shelf_id=target.id)
                .execution_options(synchronize_session=False)
            )
    return target
