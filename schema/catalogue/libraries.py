"""Libraries and their opening days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from models import Library as LibraryRow
from policies.calendar import MAX_CALENDAR_SPAN_DAYS, is_open, open_days, parse_closed_weekdays
from policies.errors import ErrorCode
from resolvers.catalogue import catalogue
from resolvers.shared.context import Context
from schema.shared import ids
from schema.shared.enums import LibraryKind
from schema.shared.errors import HondanaError
from schema.shared.fast_fields import answer_later


@strawberry.type(description="A service point: central library, branch, branch room or bookmobile.")
class Library:
    row: strawberry.Private[LibraryRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("Library", self.row.id)

    @strawberry.field(description="Short code, e.g. `CEN`.")
    def code(self) -> str:
        return self.row.code

    @strawberry.field(
        description="Name in the request's language (Japanese unless `Accept-Language: en`)."
    )
    def name(self, info: Info[Context, Any]) -> str:
        return self.row.name_en if info.context.locale == "en" else self.row.name

    @strawberry.field(description="Kind of service point.")
    def kind(self) -> LibraryKind:  # type: ignore[valid-type]
        return self.row.kind

    @strawberry.field(description="Whether holds can be collected here (a valid pickup library).")
    def takes_holds(self) -> bool:
        return self.row.takes_holds

    @strawberry.field(
        description="Opening days from `from` to `to` inclusive (at most 400 days), in "
        "library time."
    )
    async def opening_days(
        self,
        info: Info[Context, Any],
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> list[date]:
        if to < from_ or (to - from_) > timedelta(days=MAX_CALENDAR_SPAN_DAYS):
            raise HondanaError(ErrorCode.INVALID_INPUT, info.context.locale, field="to")
        exceptions = await catalogue.calendar_exceptions(info.context, self.row.id)
        return list(
            open_days(from_, to, parse_closed_weekdays(self.row.closed_weekdays), exceptions)
        )

    @strawberry.field(description="Whether the library is open on `day`.")
    async def is_open(self, info: Info[Context, Any], day: date) -> bool:
        exceptions = await catalogue.calendar_exceptions(info.context, self.row.id)
        return is_open(day, parse_closed_weekdays(self.row.closed_weekdays), exceptions)


async def library_by_id(info: Info[Context, Any], library_id: int) -> Library | None:
    """The GraphQL library for a row id, through the loader."""
    row = await info.context.loaders.library.load(library_id)
    return Library(row=row) if row is not None else None


async def _referenced(info: Info[Context, Any], library_id: int) -> Library:
    lib = await library_by_id(info, library_id)
    assert lib is not None  # a foreign key: the database keeps it pointing somewhere
    return lib


def referenced_library(info: Info[Context, Any], library_id: int) -> Library:
    """The library a row's foreign key names, for a field: at once when the request has
    read the libraries already (no await), else through the loader (``answer_later``)."""
    row = info.context.loaders.library_now(library_id)
    if row is not None:
        return Library(row=row)
    return answer_later(_referenced(info, library_id))
