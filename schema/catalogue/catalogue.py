"""Catalogue types: titles (records), copies and availability; record lookup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from models import Copy as CopyRow
from models import Record as RecordRow
from policies.enums import CopyStatus as CopyStatusValue
from policies.enums import MaterialType as MaterialTypeValue
from policies.errors import RuleViolation
from resolvers.catalogue import catalogue
from resolvers.shared.context import Context
from resolvers.shared.loaders import Availability, existing
from schema.catalogue.libraries import Library, referenced_library
from schema.shared import ids
from schema.shared.enums import CopyStatus, MaterialType
from schema.shared.errors import HondanaError
from schema.shared.pagination import Edge, PageInfo, check_first, decode_cursor, encode_cursor


@strawberry.type(description="Copies of a title at one library.")
class LibraryAvailability:
    row: strawberry.Private[Availability]

    @strawberry.field(description="The library.")
    def library(self, info: Info[Context, Any]) -> Library:
        return referenced_library(info, self.row.library_id)

    @strawberry.field(description="Copies owned here (withdrawn ones not counted).")
    def copies(self) -> int:
        return self.row.copies

    @strawberry.field(description="Copies on the shelf now.")
    def available(self) -> int:
        return self.row.available


@strawberry.type(description="One physical copy of a title.")
class Copy:
    row: strawberry.Private[CopyRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("Copy", self.row.id)

    @strawberry.field(description="The barcode on the copy.")
    def barcode(self) -> str:
        return self.row.barcode

    @strawberry.field(description="The library that owns the copy.")
    def library(self, info: Info[Context, Any]) -> Library:
        return referenced_library(info, self.row.library_id)

    @strawberry.field(description="The title this is a copy of.")
    async def record(self, info: Info[Context, Any]) -> Record:
        return Record(row=await existing(info.context.loaders.record, self.row.record_id))

    @strawberry.field(description="Where the copy is now.")
    def status(self) -> CopyStatus:  # type: ignore[valid-type]
        return self.row.status

    @strawberry.field(description="Reference-only (禁帯出): may not leave the library.")
    def reference_only(self) -> bool:
        return self.row.reference_only

    @strawberry.field(description="Borrowed from a library outside the city (HOLD-11).")
    def from_other_city(self) -> bool:
        return self.row.from_other_city

    @strawberry.field(description="Shelf mark (請求記号); the same as `callNumber`.")
    def shelf_mark(self) -> str | None:
        return self.row.shelf_mark

    @strawberry.field(
        description="Call number (請求記号), from the MARC 090, 084 or 050 field (STAFF-5)."
    )
    def call_number(self) -> str | None:
        return self.row.shelf_mark

    @strawberry.field(description="Shelf location (配架場所), e.g. 一般書架, 児童書架 (STAFF-5).")
    def shelf_location(self) -> str | None:
        return self.row.shelf_location

    @strawberry.field(
        description="Due date (返却期限) of the loan the copy is out on; null unless on loan. "
        "Says nothing of who borrowed it."
    )
    async def due_on(self, info: Info[Context, Any]) -> date | None:
        if self.row.status != CopyStatusValue.ON_LOAN:
            return None
        loans = await info.context.loaders.open_loans_by_copy.load(self.row.id)
        return loans[0].due_on if loans else None


@strawberry.type(
    description=(
        "Readings (ヨミ) of a title's headings in katakana, words separated by spaces, as "
        "kana search uses them: from the record's romanisation when it has one, else "
        "worked out by a morphological analyser (so a reading can be wrong for names). "
        "A heading with no Japanese in it has none."
    )
)
class RecordReading:
    title: str | None = strawberry.field(description="Reading of the title (トウキョウ ノ レキシ).")
    author: str | None = strawberry.field(description="Reading of the author or responsibility.")
    publisher: str | None = strawberry.field(description="Reading of the publisher.")


@strawberry.type(description="A title in the catalogue (a bibliographic record).")
class Record:
    row: strawberry.Private[RecordRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("Record", self.row.id)

    @strawberry.field(description="Title for display (Japanese script when the record has it).")
    def title(self) -> str:
        return self.row.title

    @strawberry.field(description="Reading of the title (romanisation or kana), when known.")
    def title_reading(self) -> str | None:
        return self.row.title_reading

    @strawberry.field(
        description=(
            "Katakana readings of title, author and publisher; a query in hiragana or "
            "katakana, with or without spaces, finds the title by them."
        )
    )
    def reading(self) -> RecordReading:
        row = self.row
        return RecordReading(
            title=row.title_kana, author=row.responsibility_kana, publisher=row.publisher_kana
        )

    @strawberry.field(description="Author or other statement of responsibility.")
    def responsibility(self) -> str | None:
        return self.row.responsibility

    @strawberry.field(description="Publisher.")
    def publisher(self) -> str | None:
        return self.row.publisher

    @strawberry.field(description="Year of publication.")
    def year(self) -> int | None:
        return self.row.year

    @strawberry.field(description="ISBN-13, digits only.")
    def isbn(self) -> str | None:
        return self.row.isbn

    @strawberry.field(description="Classification (NDC, LCC or DDC).")
    def subject_class(self) -> str | None:
        return self.row.subject_class

    @strawberry.field(description="Subject headings.")
    def subjects(self) -> list[str]:
        return [s for s in (self.row.subjects or "").split(" | ") if s]

    @strawberry.field(description="Kind of material.")
    def material_type(self) -> MaterialType:  # type: ignore[valid-type]
        return self.row.material_type

    @strawberry.field(description="Series title.")
    def series(self) -> str | None:
        return self.row.series

    @strawberry.field(description="Volume within the series (上・中・下, 1, 2...).")
    def volume(self) -> str | None:
        return self.row.volume

    @strawberry.field(description="Whether the title is a comic (HOLD-9 exception).")
    def is_comic(self) -> bool:
        return self.row.is_comic

    @strawberry.field(description="Copies and how many are on the shelf, per library.")
    async def availability(self, info: Info[Context, Any]) -> list[LibraryAvailability]:
        rows = await info.context.loaders.availability_by_record.load(self.row.id)
        return [LibraryAvailability(row=r) for r in rows]

    @strawberry.field(description="Every copy of the title with its status.")
    async def copies(self, info: Info[Context, Any]) -> list[Copy]:
        rows = await info.context.loaders.copies_by_record.load(self.row.id)
        return [Copy(row=r) for r in rows if r.status != CopyStatusValue.WITHDRAWN]

    @strawberry.field(description="How many holds are waiting for the title (予約件数, HOLD-7).")
    async def hold_count(self, info: Info[Context, Any]) -> int:
        return len(await info.context.loaders.queue_by_record.load(self.row.id))

    @strawberry.field(
        description="Whether the title can be reserved on the web: a city-owned copy that is "
        "neither reference-only nor an art reproduction (HOLD-1, HOLD-11)."
    )
    async def holdable(self, info: Info[Context, Any]) -> bool:
        if self.row.material_type in (MaterialTypeValue.ART_REPRODUCTION, MaterialTypeValue.EBOOK):
            return False
        rows = await info.context.loaders.availability_by_record.load(self.row.id)
        return any(r.holdable for r in rows)


def record_page(rows: Sequence[RecordRow], has_next: bool) -> tuple[list[Edge[Record]], PageInfo]:
    """The edges and page info of a page of titles in keyset order."""
    edges = [Edge(cursor=encode_cursor(r.id), node=Record(row=r)) for r in rows]
    end = edges[-1].cursor if edges else None
    return edges, PageInfo(has_next_page=has_next, end_cursor=end)


@strawberry.type(description="A page of titles.")
class RecordConnection:
    edges: list[Edge[Record]] = strawberry.field(description="The titles of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow, and from where.")
    total_count: int = strawberry.field(description="How many titles there are in all.")


async def new_arrivals(
    info: Info[Context, Any],
    since: date,
    subject_classes: list[str] | None = None,
    first: int = 20,
    after: str | None = None,
) -> RecordConnection:
    """Titles added since a date, newest first (MAIL-4)."""
    locale = info.context.locale
    check_first(first, locale)
    after_id = decode_cursor(after, locale)
    try:
        page = await catalogue.new_arrivals(
            info.context, since, subject_classes or [], first, after_id
        )
    except RuleViolation as bad:
        raise HondanaError.from_violation(bad, locale) from None
    edges, page_info = record_page(page.records, page.has_next)
    return RecordConnection(edges=edges, page_info=page_info, total_count=page.total)


async def record(info: Info[Context, Any], id: strawberry.ID) -> Record | None:
    """One title by id; ``null`` when there is none."""
    pk = ids.decode("Record", id)
    row = await catalogue.record(info.context, pk) if pk is not None else None
    return Record(row=row) if row is not None else None
