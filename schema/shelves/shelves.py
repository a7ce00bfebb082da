"""Bookshelves (My本棚): up to 5 named lists of up to 100 titles each."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from models import Bookshelf as ShelfRow
from models import BookshelfEntry as EntryRow
from policies.errors import RuleViolation
from resolvers.shared.context import Context
from resolvers.shared.loaders import existing
from resolvers.shelves import shelves
from schema.catalogue.catalogue import Record
from schema.circulation.holds import PATRON, decode_many
from schema.shared import ids
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import patron_viewer


@strawberry.type(description="A title on a bookshelf.")
class BookshelfEntry:
    row: strawberry.Private[EntryRow]

    @strawberry.field(
        description="Opaque id; pass it to `removeFromBookshelf` or `moveBookshelfEntries`."
    )
    def id(self) -> strawberry.ID:
        return ids.encode("BookshelfEntry", self.row.id)

    @strawberry.field(description="The title.")
    async def record(self, info: Info[Context, Any]) -> Record:
        return Record(row=await existing(info.context.loaders.record, self.row.record_id))

    @strawberry.field(description="When it was put on the shelf.")
    def added_at(self) -> datetime:
        return self.row.added_at


@strawberry.type(description="A named bookshelf (My本棚) of the patron's.")
class Bookshelf:
    row: strawberry.Private[ShelfRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("Bookshelf", self.row.id)

    @strawberry.field(description="The shelf's name (1-30 characters, no emoji).")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="Its titles, newest first (at most 100).")
    async def entries(self, info: Info[Context, Any]) -> list[BookshelfEntry]:
        return [BookshelfEntry(row=e) for e in await shelves.entries(info.context, self.row.id)]


@strawberry.type(description="The result of a change to a bookshelf.")
class BookshelfPayload:
    bookshelf: Bookshelf | None = strawberry.field(description="The shelf after the change.")
    errors: list[UserError] = strawberry.field(
        description="`SHELF_LIMIT` (6th shelf), `SHELF_FULL` (101st title), `NAME_TAKEN`, "
        "`INVALID_INPUT` (name), `NOT_FOUND`, `TOO_MANY_ITEMS`, `DUPLICATE_ID`; when present "
        "nothing changed."
    )


@strawberry.type(description="The result of `removeFromBookshelf` or `deleteBookshelf`.")
class BookshelfRemovalPayload:
    removed: int = strawberry.field(description="How many titles (or shelves) were removed.")
    errors: list[UserError] = strawberry.field(description="`NOT_FOUND`, `TOO_MANY_ITEMS`.")


async def _shelf(info: Info[Context, Any], action: Awaitable[ShelfRow]) -> BookshelfPayload:
    try:
        row = await action
    except RuleViolation as no:
        return BookshelfPayload(bookshelf=None, errors=user_errors([no], info.context.locale))
    return BookshelfPayload(bookshelf=Bookshelf(row=row), errors=[])


@strawberry.type
class ShelfQueries:
    @strawberry.field(description="The patron's bookshelves, oldest first.", extensions=PATRON)
    async def my_bookshelves(self, info: Info[Context, Any]) -> list[Bookshelf]:
        return [Bookshelf(row=r) for r in await shelves.shelves(info.context, patron_viewer(info))]


@strawberry.type
class ShelfMutations:
    @strawberry.mutation(description="Make a bookshelf (at most 5).", extensions=PATRON)
    async def create_bookshelf(self, info: Info[Context, Any], name: str) -> BookshelfPayload:
        return await _shelf(info, shelves.create(info.context, patron_viewer(info), name))

    @strawberry.mutation(description="Rename a bookshelf.", extensions=PATRON)
    async def rename_bookshelf(
        self, info: Info[Context, Any], bookshelf_id: strawberry.ID, name: str
    ) -> BookshelfPayload:
        pk = ids.pk("Bookshelf", bookshelf_id)
        return await _shelf(info, shelves.rename(info.context, patron_viewer(info), pk, name))

    @strawberry.mutation(description="Delete a bookshelf and its titles.", extensions=PATRON)
    async def delete_bookshelf(
        self, info: Info[Context, Any], bookshelf_id: strawberry.ID
    ) -> BookshelfRemovalPayload:
        try:
            await shelves.remove_shelf(
                info.context, patron_viewer(info), ids.pk("Bookshelf", bookshelf_id)
            )
        except RuleViolation as no:
            return BookshelfRemovalPayload(removed=0, errors=user_errors([no], info.context.locale))
        return BookshelfRemovalPayload(removed=1, errors=[])

    @strawberry.mutation(
        description="Put titles on a bookshelf, from search results (`recordIds`) or the basket "
        "(`basketEntryIds`); titles already there stay once. At most 100 per shelf.",
        extensions=PATRON,
    )
    async def add_to_bookshelf(
        self,
        info: Info[Context, Any],
        bookshelf_id: strawberry.ID,
        record_ids: list[strawberry.ID] | None = None,
        basket_entry_ids: list[strawberry.ID] | None = None,
    ) -> BookshelfPayload:
        return await _shelf(
            info,
            shelves.add(
                info.context,
                patron_viewer(info),
                ids.pk("Bookshelf", bookshelf_id),
                decode_many("Record", record_ids or []),
                decode_many("BasketEntry", basket_entry_ids or []),
            ),
        )

    @strawberry.mutation(
        description="Take titles off the patron's shelves, all or nothing: an id that is not "
        "one of your entries answers `NOT_FOUND` and removes nothing.",
        extensions=PATRON,
    )
    async def remove_from_bookshelf(
        self, info: Info[Context, Any], entry_ids: list[strawberry.ID]
    ) -> BookshelfRemovalPayload:
        keys = decode_many("BookshelfEntry", entry_ids)
        try:
            removed = await shelves.remove_entries(info.context, patron_viewer(info), keys)
        except RuleViolation as no:
            return BookshelfRemovalPayload(removed=0, errors=user_errors([no], info.context.locale))
        return BookshelfRemovalPayload(removed=removed, errors=[])

    @strawberry.mutation(description="Move titles to another bookshelf.", extensions=PATRON)
    async def move_bookshelf_entries(
        self,
        info: Info[Context, Any],
        entry_ids: list[strawberry.ID],
        to_bookshelf_id: strawberry.ID,
    ) -> BookshelfPayload:
        return await _shelf(
            info,
            shelves.move(
                info.context,
                patron_viewer(info),
                decode_many("BookshelfEntry", entry_ids),
                ids.pk("Bookshelf", to_bookshelf_id),
            ),
        )
