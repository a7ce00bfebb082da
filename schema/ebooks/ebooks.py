"""E-books (EBOOK-1..5): loans, holds and reading links."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from models import EbookHold as HoldRow
from models import EbookLoan as LoanRow
from policies import enums
from policies.errors import RuleViolation
from resolvers.ebooks import ebooks, reading
from resolvers.shared.context import Context
from resolvers.shared.loaders import existing
from schema.catalogue.catalogue import Record
from schema.circulation.holds import PATRON
from schema.shared import ids
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import patron_viewer

EbookHoldState = strawberry.enum(enums.EbookHoldState, description="An e-book hold's state.")
T = TypeVar("T")


@strawberry.type(description="An e-book the patron is reading (a licence, not a file).")
class EbookLoan:
    row: strawberry.Private[LoanRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("EbookLoan", self.row.id)

    @strawberry.field(description="The title.")
    async def record(self, info: Info[Context, Any]) -> Record:
        return Record(row=await existing(info.context.loaders.record, self.row.record_id))

    @strawberry.field(description="When it was borrowed.")
    def borrowed_at(self) -> datetime:
        return self.row.borrowed_at

    @strawberry.field(description="When it returns itself (15 days, EBOOK-2).")
    def due_at(self) -> datetime:
        return self.row.due_at


@strawberry.type(description="A hold on an e-book (EBOOK-3).")
class EbookHold:
    row: strawberry.Private[HoldRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("EbookHold", self.row.id)

    @strawberry.field(description="The title.")
    async def record(self, info: Info[Context, Any]) -> Record:
        return Record(row=await existing(info.context.loaders.record, self.row.record_id))

    @strawberry.field(description="WAITING for a licence, or READY (borrow it before `expiresAt`).")
    def state(self) -> EbookHoldState:  # type: ignore[valid-type]
        return self.row.state

    @strawberry.field(
        description="Until when a READY hold's licence is kept: a week, to the end of the "
        "library day its mail states (EBOOK-3)."
    )
    def expires_at(self) -> datetime | None:
        return self.row.expires_at


@strawberry.type(description="A short-lived link to read a borrowed e-book (EBOOK-5).")
class ReadingLink:
    url: str = strawberry.field(description="Open in the reader; path on this server.")
    expires_at: datetime = strawberry.field(description="When the link stops working.")


@strawberry.type(description="The result of an e-book action.")
class EbookPayload:
    loan: EbookLoan | None = strawberry.field(description="The loan, when one was made or ended.")
    hold: EbookHold | None = strawberry.field(description="The hold, when one was placed or ended.")
    link: ReadingLink | None = strawberry.field(description="The reading link, when asked for.")
    errors: list[UserError] = strawberry.field(
        description="`EBOOK_NOT_ALLOWED` (EBOOK-1), `EBOOK_LOAN_LIMIT`, `EBOOK_HOLD_LIMIT`, "
        "`EBOOK_UNAVAILABLE` (hold it), `EBOOK_AVAILABLE` (borrow it), `ALREADY_HELD`, "
        "`ALREADY_ON_LOAN`, `NOT_FOUND`."
    )


async def _act(info: Info[Context, Any], action: Awaitable[T], make: Any) -> EbookPayload:
    try:
        result = await action
    except RuleViolation as no:
        return EbookPayload(
            loan=None, hold=None, link=None, errors=user_errors([no], info.context.locale)
        )
    payload: EbookPayload = make(result)
    return payload


@strawberry.type
class EbookQueries:
    @strawberry.field(description="The patron's e-books on loan.", extensions=PATRON)
    async def my_ebook_loans(self, info: Info[Context, Any]) -> list[EbookLoan]:
        return [EbookLoan(row=r) for r in await ebooks.loans(info.context, patron_viewer(info))]

    @strawberry.field(description="The patron's e-book holds in play.", extensions=PATRON)
    async def my_ebook_holds(self, info: Info[Context, Any]) -> list[EbookHold]:
        return [EbookHold(row=r) for r in await ebooks.holds(info.context, patron_viewer(info))]


@strawberry.type
class EbookMutations:
    @strawberry.mutation(description="Borrow an e-book for 15 days (at most 3).", extensions=PATRON)
    async def borrow_ebook(
        self, info: Info[Context, Any], record_id: strawberry.ID
    ) -> EbookPayload:
        action = ebooks.borrow(info.context, patron_viewer(info), ids.pk("Record", record_id))
        return await _act(
            info,
            action,
            lambda r: EbookPayload(loan=EbookLoan(row=r), hold=None, link=None, errors=[]),
        )

    @strawberry.mutation(description="Return an e-book early.", extensions=PATRON)
    async def return_ebook(self, info: Info[Context, Any], loan_id: strawberry.ID) -> EbookPayload:
        action = ebooks.give_back(info.context, patron_viewer(info), ids.pk("EbookLoan", loan_id))
        return await _act(
            info,
            action,
            lambda r: EbookPayload(loan=EbookLoan(row=r), hold=None, link=None, errors=[]),
        )

    @strawberry.mutation(
        description="Hold an e-book whose licences are all out (at most 3).", extensions=PATRON
    )
    async def place_ebook_hold(
        self, info: Info[Context, Any], record_id: strawberry.ID
    ) -> EbookPayload:
        action = ebooks.place_hold(info.context, patron_viewer(info), ids.pk("Record", record_id))
        return await _act(
            info,
            action,
            lambda r: EbookPayload(loan=None, hold=EbookHold(row=r), link=None, errors=[]),
        )

    @strawberry.mutation(description="Cancel an e-book hold.", extensions=PATRON)
    async def cancel_ebook_hold(
        self, info: Info[Context, Any], hold_id: strawberry.ID
    ) -> EbookPayload:
        action = ebooks.cancel_hold(info.context, patron_viewer(info), ids.pk("EbookHold", hold_id))
        return await _act(
            info,
            action,
            lambda r: EbookPayload(loan=None, hold=EbookHold(row=r), link=None, errors=[]),
        )

    @strawberry.mutation(
        description="A 10-minute link to read a borrowed e-book (EBOOK-5: access, not files).",
        extensions=PATRON,
    )
    async def ebook_reading_link(
        self, info: Info[Context, Any], loan_id: strawberry.ID
    ) -> EbookPayload:
        action = reading.reading_link(
            info.context, patron_viewer(info), ids.pk("EbookLoan", loan_id)
        )
        return await _act(
            info,
            action,
            lambda r: EbookPayload(
                loan=None,
                hold=None,
                link=ReadingLink(url=r.url, expires_at=r.expires_at),
                errors=[],
            ),
        )
