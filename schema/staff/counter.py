"""The staff counter and calendar (STAFF-1, LOAN-5, HOLD-5..8, SVC-2)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from models import Patron as PatronRow
from policies.desk import DeskWarnings
from policies.enums import StaffRole as Role
from policies.errors import ErrorCode as Code
from policies.errors import RuleViolation
from resolvers.accounts import accounts, card
from resolvers.circulation import calendar_days
from resolvers.shared.context import Context
from resolvers.staff import counter, desk_lists
from resolvers.staff.counter import CheckinResult
from schema.catalogue.catalogue import Copy, Record
from schema.catalogue.libraries import Library, library_by_id
from schema.circulation.holds import Hold
from schema.circulation.loans import Loan
from schema.shared import ids
from schema.shared.errors import HondanaError, UserError, user_errors
from schema.shared.permissions import StaffOnly, guard, may_override
from schema.staff import desk_words

COUNTER = guard(StaffOnly(Role.COUNTER))
CALENDAR = guard(StaffOnly(Role.CALENDAR))


def _library_id(info: Info[Context, Any], value: strawberry.ID) -> int:
    pk = ids.decode("Library", value)
    if pk is None:
        raise HondanaError(Code.NOT_FOUND, info.context.locale, field="libraryId")
    return pk


@strawberry.type(description="The result of `checkOut`.")
class CheckOutPayload:
    loan: Loan | None = strawberry.field(description="The new loan, with its due date.")
    collected_hold: Hold | None = strawberry.field(
        description="The patron's hold this loan fulfilled, if any."
    )
    errors: list[UserError] = strawberry.field(
        description="`NOT_FOUND` (card or barcode), `CARD_EXPIRED`, `OVERDUE_BLOCK` (collecting "
        "a hold, CARD-3), `LOAN_LIMIT`, `NOT_LOANABLE`, `HELD_FOR_ANOTHER`, `COPY_UNAVAILABLE`; "
        "the STAFF-4 warnings, all at once: `PATRON_OVERDUE`, `WANTED_BY_HOLD`, "
        "`CARD_EXPIRING_SOON` (nothing is lent; a clerk with the OVERRIDE role may send "
        "`override: true` with an `overrideReason`); `REASON_REQUIRED`, `FORBIDDEN` (override "
        "without the role)."
    )


@strawberry.type(description="What happened to a copy at the counter.")
class CopyMovePayload:
    copy: Copy | None = strawberry.field(description="The copy, with its new status.")
    returned_loan: Loan | None = strawberry.field(description="The loan closed by a check-in.")
    hold: Hold | None = strawberry.field(
        description="The hold the copy now serves: READY here (put it on the hold shelf) or "
        "IN_TRANSIT (send it to the hold's pickup library)."
    )
    destination: Library | None = strawberry.field(
        description="Where the copy goes now: the hold's pickup library, its home library when "
        "it travels home, or the library it stays at."
    )
    instruction: str | None = strawberry.field(
        description="What to do with the copy, for the clerk, in the request's language: "
        "予約棚へ / 回送 / 書架へ (transit wording for a copy on its way, never lending wording)."
    )
    errors: list[UserError] = strawberry.field(
        description="`NOT_FOUND`, `COPY_UNAVAILABLE`, `NOT_IN_TRANSIT`, `NO_WAITING_HOLD`, "
        "`WRONG_LIBRARY` (a copy received or returned where it is not going; the message "
        "names its destination, STAFF-4)."
    )


@strawberry.type(description="A copy on the shelf that waiting holds need (HOLD-5).")
class PullListItem:
    copy: Copy = strawberry.field(description="The copy to pull; shelf mark and barcode.")
    record: Record = strawberry.field(description="Its title.")
    holds_waiting: int = strawberry.field(description="Waiting holds for the title.")
    oldest_placed_at: datetime = strawberry.field(description="When the oldest was placed.")
    first_hold: Hold | None = strawberry.field(
        description="The first hold in line: its pickup library, and (`patron`) whom it is for."
    )


async def _move(info: Info[Context, Any], action: Awaitable[CheckinResult]) -> CopyMovePayload:
    try:
        result = await action
    except RuleViolation as no:
        return CopyMovePayload(
            copy=None,
            returned_loan=None,
            hold=None,
            destination=None,
            instruction=None,
            errors=user_errors([no], info.context.locale),
        )
    destination_id, key = desk_words.where_it_goes(result)
    destination = await library_by_id(info, destination_id)
    name = destination.row.name if destination is not None else ""
    return CopyMovePayload(
        copy=Copy(row=result.copy),
        returned_loan=Loan(row=result.loan) if result.loan is not None else None,
        hold=Hold(row=result.hold) if result.hold is not None else None,
        destination=destination,
        instruction=desk_words.say(key, info.context.locale, library=name, result=result),
        errors=[],
    )


@strawberry.type
class CounterQueries:
    @strawberry.field(
        description="Staff: copies on the shelf at a library that holds placed before `day` "
        "(default today) need, oldest hold first. Holds are never ready at once; copies are "
        "pulled the next morning (HOLD-5).",
        extensions=COUNTER,
    )
    async def pull_list(
        self, info: Info[Context, Any], library_id: strawberry.ID, day: date | None = None
    ) -> list[PullListItem]:
        try:
            items = await desk_lists.pull_list(info.context, _library_id(info, library_id), day)
        except RuleViolation as no:
            raise HondanaError.from_violation(no, info.context.locale) from None
        return [
            PullListItem(
                copy=Copy(row=i.copy),
                record=Record(row=i.record),
                holds_waiting=i.holds_waiting,
                oldest_placed_at=i.oldest_placed_at,
                first_hold=Hold(row=i.first_hold) if i.first_hold is not None else None,
            )
            for i in items
        ]


@strawberry.type
class CounterMutations:
    @strawberry.mutation(
        description="Staff: lend a copy to a patron at a library (LOAN-5), identified by card "
        "number or by the app's digital card code (`cardCode`, single use). A copy kept for "
        "the patron's ready hold collects it. Warnings (overdue patron, title wanted by "
        "another hold, card expiring within 30 days) stop the loan unless a clerk with the "
        "OVERRIDE role sends `override: true` and `overrideReason` (audited, STAFF-4).",
        extensions=COUNTER,
    )
    async def check_out(
        self,
        info: Info[Context, Any],
        barcode: str,
        library_id: strawberry.ID,
        card_number: str | None = None,
        card_code: str | None = None,
        override: bool = False,
        override_reason: str | None = None,
    ) -> CheckOutPayload:
        locale = info.context.locale
        try:
            if (card_number is None) == (card_code is None):
                raise RuleViolation(Code.INVALID_INPUT, field="cardNumber")
            reason = may_override(info, override_reason) if override else None
            patron: PatronRow | None
            if card_code is not None:
                patron = await card.patron_for_code(info.context, card_code)
            else:
                assert card_number is not None
                patron = await accounts.find_patron_by_card(info.context, card_number)
            if patron is None:
                raise RuleViolation(Code.NOT_FOUND, field="cardNumber")
            result = await counter.check_out(
                info.context, patron.id, barcode, ids.pk("Library", library_id), reason
            )
        except RuleViolation as no:
            return CheckOutPayload(loan=None, collected_hold=None, errors=user_errors([no], locale))
        except DeskWarnings as warned:
            errors = user_errors(warned.warnings, locale)
            return CheckOutPayload(loan=None, collected_hold=None, errors=errors)
        return CheckOutPayload(
            loan=Loan(row=result.loan),
            collected_hold=Hold(row=result.collected) if result.collected is not None else None,
            errors=[],
        )

    @strawberry.mutation(
        description="Staff: return a copy at a library. If a hold waits for the title the copy "
        "is trapped for it (see `hold`).",
        extensions=COUNTER,
    )
    async def check_in(
        self, info: Info[Context, Any], barcode: str, library_id: strawberry.ID
    ) -> CopyMovePayload:
        return await _move(
            info, counter.check_in(info.context, barcode, ids.pk("Library", library_id))
        )

    @strawberry.mutation(
        description="Staff: a copy taken from the shelf for the pull list; it is trapped for the "
        "first hold in line.",
        extensions=COUNTER,
    )
    async def mark_pulled(self, info: Info[Context, Any], barcode: str) -> CopyMovePayload:
        return await _move(info, counter.mark_pulled(info.context, barcode))

    @strawberry.mutation(
        description="Staff: a copy in transit arrives at a library; its hold becomes READY there.",
        extensions=COUNTER,
    )
    async def receive_transit(
        self, info: Info[Context, Any], barcode: str, library_id: strawberry.ID
    ) -> CopyMovePayload:
        return await _move(
            info, counter.receive_transit(info.context, barcode, ids.pk("Library", library_id))
        )

    @strawberry.mutation(
        description="Staff: mark a day closed (`open: false`) or open (`open: true`) at a "
        "library, or drop the exception (`open: null`). Due dates and pickup deadlines follow.",
        extensions=CALENDAR,
    )
    async def set_calendar_day(
        self,
        info: Info[Context, Any],
        library_id: strawberry.ID,
        day: date,
        open: bool | None = strawberry.UNSET,
        note: str | None = None,
    ) -> Library:
        if open is strawberry.UNSET:  # null drops the exception; leaving it out is a mistake
            raise HondanaError(Code.INVALID_INPUT, info.context.locale, field="open")
        try:
            row = await calendar_days.set_day(
                info.context, _library_id(info, library_id), day, open, note
            )
        except RuleViolation as no:
            raise HondanaError.from_violation(no, info.context.locale) from None
        info.context.loaders.calendar_by_library.clear(row.id)
        lib = await library_by_id(info, row.id)
        assert lib is not None
        return lib

    @strawberry.mutation(
        description="Staff: a library's weekly closing days, ISO numbers (1 = Monday). Due dates "
        "and pickup deadlines from today on that fall on a day now closed move to the next "
        "opening day, with the usual notices (SVC-3).",
        extensions=CALENDAR,
    )
    async def set_closed_weekdays(
        self, info: Info[Context, Any], library_id: strawberry.ID, weekdays: list[int]
    ) -> Library:
        try:
            row = await calendar_days.set_closed_weekdays(
                info.context, _library_id(info, library_id), weekdays
            )
        except RuleViolation as no:
            raise HondanaError.from_violation(no, info.context.locale) from None
        return Library(row=row)
