"""The staff desk, for a patron at the counter or on the phone (STAFF-2..4): the patron
panel, holds placed, cancelled and moved for them, loans renewed, and the lists per library."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from models import Hold as HoldRow
from models import Patron as PatronRow
from policies.cards import check_card_valid, check_hold_blocks
from policies.desk import clean_reason, worst_overdue
from policies.enums import StaffRole as Role
from policies.errors import ErrorCode as Code
from policies.errors import RuleViolation
from resolvers.circulation import loans
from resolvers.shared import privacy
from resolvers.shared.context import Context
from resolvers.staff import desk_holds, desk_lists, desk_loans
from schema.accounts.accounts import Patron
from schema.catalogue.catalogue import Copy
from schema.circulation.holds import Hold, HoldPayload
from schema.circulation.loans import Loan
from schema.shared import ids
from schema.shared.errors import HondanaError, UserError, user_errors
from schema.shared.permissions import StaffOnly, guard, may_override

DESK = guard(StaffOnly(Role.COUNTER))
DESK_OR_PATRONS = guard(StaffOnly(Role.COUNTER, Role.PATRONS))


def _pk(info: Info[Context, Any], type_name: str, value: strawberry.ID, field: str) -> int:
    pk = ids.decode(type_name, value)
    if pk is None:
        raise RuleViolation(Code.NOT_FOUND, field=field)
    return pk


@strawberry.type(description="What the counter sees of a patron (STAFF-2, CARD-1..3).")
class DeskPatron:
    patron: Patron = strawberry.field(description="The patron.")
    loans: list[Loan] = strawberry.field(description="Open loans, soonest due first.")
    holds: list[Hold] = strawberry.field(description="Holds in play, with queue positions.")
    days_overdue: int = strawberry.field(
        description="The most overdue loan, in library days (0: none). No fines are charged."
    )
    blocks: list[UserError] = strawberry.field(
        description="What stops the patron now: `CARD_EXPIRED`, `OVERDUE_BLOCK` (CARD-2/3)."
    )


@strawberry.type(description="The result of `renewLoanFor`.")
class LoanPayload:
    loan: Loan | None = strawberry.field(description="The loan with its new due date.")
    errors: list[UserError] = strawberry.field(
        description="The LOAN-3 refusals (`OVERDUE`, `HELD_BY_OTHERS`, `RENEWAL_LIMIT`...), "
        "`NOT_FOUND`; with `override`: `FORBIDDEN` (no OVERRIDE role), `REASON_REQUIRED`."
    )


@strawberry.type(description="A copy on its way to a library (transit expected).")
class TransitItem:
    copy: Copy = strawberry.field(description="The copy, with its title and call number.")
    hold: Hold | None = strawberry.field(description="The hold it travels for; null: going home.")


def _blocks(info: Info[Context, Any], patron: PatronRow, due_dates: list[date]) -> list[UserError]:
    today, found = info.context.today(), []
    try:
        check_card_valid(patron.card_expires_on, today)
    except RuleViolation as no:
        found.append(no)
    try:
        check_hold_blocks(due_dates, today, info.context.policy.circulation)
    except RuleViolation as no:
        found.append(no)
    return user_errors(found, info.context.locale)


async def _hold_change(
    info: Info[Context, Any], change: Callable[[], Awaitable[HoldRow]]
) -> HoldPayload:
    try:
        row = await change()
    except RuleViolation as no:
        return HoldPayload(hold=None, errors=user_errors([no], info.context.locale))
    return HoldPayload(hold=Hold(row=row), errors=[])


@strawberry.type
class DeskQueries:
    @strawberry.field(
        description="Staff: a patron at the counter: details, loans, holds with queue "
        "positions, days overdue and what blocks them. Audited. `NOT_FOUND` if no such card.",
        extensions=DESK_OR_PATRONS,
    )
    async def desk_patron(self, info: Info[Context, Any], card_number: str) -> DeskPatron:
        try:
            patron = await desk_holds.patron_of(info.context, card_number)
        except RuleViolation as no:
            raise HondanaError.from_violation(no, info.context.locale) from None
        await privacy.audit(info.context, "patron", patron.id)
        open_loans = await loans.open_loans(info.context, patron.id)
        dues = [loan.due_on for loan in open_loans]
        return DeskPatron(
            patron=Patron(row=patron),
            loans=[Loan(row=r) for r in open_loans],
            holds=[
                Hold(row=r, details=d) for r, d in await desk_holds.holds_of(info.context, patron)
            ],
            days_overdue=worst_overdue(dues, info.context.today()),
            blocks=_blocks(info, patron, dues),
        )

    @strawberry.field(
        description="Staff: READY holds on a library's hold shelf, soonest deadline first.",
        extensions=DESK,
    )
    async def hold_shelf(self, info: Info[Context, Any], library_id: strawberry.ID) -> list[Hold]:
        return await _hold_list(info, desk_lists.hold_shelf, library_id)

    @strawberry.field(
        description="Staff: READY holds past their pickup deadline, to take off the shelf.",
        extensions=DESK,
    )
    async def expired_holds(
        self, info: Info[Context, Any], library_id: strawberry.ID
    ) -> list[Hold]:
        return await _hold_list(info, desk_lists.expired_holds, library_id)

    @strawberry.field(
        description="Staff: the call list (STAFF-3): READY holds at a library for patrons to "
        "phone (contact method PHONE, or mail that bounced), not yet marked called.",
        extensions=DESK,
    )
    async def call_list(self, info: Info[Context, Any], library_id: strawberry.ID) -> list[Hold]:
        return await _hold_list(info, desk_lists.call_list, library_id)

    @strawberry.field(
        description="Staff: copies on their way to a library: for its holds or coming home.",
        extensions=DESK,
    )
    async def transits_expected(
        self, info: Info[Context, Any], library_id: strawberry.ID
    ) -> list[TransitItem]:
        try:
            pk = _pk(info, "Library", library_id, "libraryId")
            copies = await desk_lists.transits_expected(info.context, pk)
        except RuleViolation as no:
            raise HondanaError.from_violation(no, info.context.locale) from None
        holds = await desk_lists.holds_for_copies(info.context, [c.id for c in copies])
        return [
            TransitItem(copy=Copy(row=c), hold=Hold(row=holds[c.id]) if c.id in holds else None)
            for c in copies
        ]


async def _hold_list(
    info: Info[Context, Any],
    lister: Callable[[Context, int], Awaitable[Any]],
    library_id: strawberry.ID,
) -> list[Hold]:
    try:
        rows = await lister(info.context, _pk(info, "Library", library_id, "libraryId"))
    except RuleViolation as no:
        raise HondanaError.from_violation(no, info.context.locale) from None
    return [Hold(row=r) for r in rows]


@strawberry.type
class DeskMutations:
    @strawberry.mutation(
        description="Staff: place a hold for a patron (STAFF-2). The patron's card, overdue "
        "blocks and hold limits apply (CARD-1..3, HOLD-1, HOLD-2); the pickup library "
        "defaults to theirs. Audited.",
        extensions=DESK,
    )
    async def place_hold_for(
        self,
        info: Info[Context, Any],
        card_number: str,
        record_id: strawberry.ID,
        pickup_library_id: strawberry.ID | None = None,
    ) -> HoldPayload:
        async def change() -> HoldRow:
            patron = await desk_holds.patron_of(info.context, card_number)
            record = _pk(info, "Record", record_id, "recordId")
            pickup = (
                _pk(info, "Library", pickup_library_id, "pickupLibraryId")
                if pickup_library_id is not None
                else None
            )
            return await desk_holds.place_for(info.context, patron, record, pickup)

        return await _hold_change(info, change)

    @strawberry.mutation(
        description="Staff: cancel a patron's hold in any state, with a reason (STAFF-2). A "
        "copy on the hold shelf goes to the next hold or back to the shelf. Audited.",
        extensions=DESK,
    )
    async def cancel_hold_for(
        self, info: Info[Context, Any], hold_id: strawberry.ID, reason: str
    ) -> HoldPayload:
        async def change() -> HoldRow:
            why = clean_reason(reason) or ""
            pk = _pk(info, "Hold", hold_id, "holdId")
            return await desk_holds.cancel_for(info.context, pk, why)

        return await _hold_change(info, change)

    @strawberry.mutation(
        description="Staff: change a patron's pickup library in any state, with a reason "
        "(STAFF-2). A READY copy leaves the shelf in transit to the new library. Audited.",
        extensions=DESK,
    )
    async def move_hold_for(
        self,
        info: Info[Context, Any],
        hold_id: strawberry.ID,
        pickup_library_id: strawberry.ID,
        reason: str,
    ) -> HoldPayload:
        async def change() -> HoldRow:
            why = clean_reason(reason) or ""
            pk = _pk(info, "Hold", hold_id, "holdId")
            lib = _pk(info, "Library", pickup_library_id, "pickupLibraryId")
            return await desk_holds.move_for(info.context, pk, lib, why)

        return await _hold_change(info, change)

    @strawberry.mutation(
        description="Staff: the patron was phoned about a READY hold (STAFF-3); records who, "
        "when and the outcome, and takes it off the call list.",
        extensions=DESK,
    )
    async def mark_called(
        self, info: Info[Context, Any], hold_id: strawberry.ID, outcome: str
    ) -> HoldPayload:
        async def change() -> HoldRow:
            pk = _pk(info, "Hold", hold_id, "holdId")
            return await desk_lists.mark_called(info.context, pk, outcome)

        return await _hold_change(info, change)

    @strawberry.mutation(
        description="Staff: renew a patron's loan (STAFF-2); the LOAN rules apply. A clerk "
        "with the OVERRIDE role may renew past a refusal with `override: true` and an "
        "`overrideReason` (audited).",
        extensions=DESK,
    )
    async def renew_loan_for(
        self,
        info: Info[Context, Any],
        card_number: str,
        loan_id: strawberry.ID,
        override: bool = False,
        override_reason: str | None = None,
    ) -> LoanPayload:
        try:
            reason = may_override(info, override_reason) if override else None
            patron = await desk_holds.patron_of(info.context, card_number)
            pk = _pk(info, "Loan", loan_id, "loanId")
            row = await desk_loans.renew_for(info.context, patron, pk, reason)
        except RuleViolation as no:
            return LoanPayload(loan=None, errors=user_errors([no], info.context.locale))
        return LoanPayload(loan=Loan(row=row), errors=[])
