"""Loans (LOAN-1) and renewal (LOAN-2..4)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from models import Loan as LoanRow
from policies.cards import days_overdue
from policies.errors import RuleViolation
from resolvers.circulation import loans
from resolvers.shared import privacy
from resolvers.shared.context import Context
from resolvers.shared.loaders import existing
from schema.catalogue.catalogue import Copy, Record
from schema.circulation.holds import PATRON, decode_many
from schema.shared import ids
from schema.shared.errors import ErrorCode, UserError, user_error, user_errors
from schema.shared.fast_fields import NOT_AT_HAND, at_hand, or_later
from schema.shared.permissions import patron_viewer


@strawberry.type(description="A copy lent to the patron.")
class Loan:
    row: strawberry.Private[LoanRow]
    # Copy, title and renewal answer, when the list read them for every loan at once.
    details: strawberry.Private[loans.LoanDetails | None] = None
    # `renewable` and `renewalBlockedBy` ask the same question: it is asked once per loan.
    refusal: strawberry.Private[asyncio.Task[RuleViolation | None] | None] = None

    def _refusal(self, info: Info[Context, Any]) -> Awaitable[RuleViolation | None]:
        if self.refusal is None:
            self.refusal = asyncio.ensure_future(loans.renewal_check(info.context, self.row))
        # Shielded: one field cancelled must not cancel the answer its sibling waits on.
        return asyncio.shield(self.refusal)

    @strawberry.field(description="Opaque id; pass it to `renewLoans`.")
    def id(self) -> strawberry.ID:
        return ids.encode("Loan", self.row.id)

    async def _record(self, info: Info[Context, Any]) -> Record:
        copy = await existing(info.context.loaders.copy, self.row.copy_id)
        return Record(row=await existing(info.context.loaders.record, copy.record_id))

    async def _copy(self, info: Info[Context, Any]) -> Copy:
        return Copy(row=await existing(info.context.loaders.copy, self.row.copy_id))

    def _record_at_hand(self) -> Record:
        if self.details is not None:
            return Record(row=self.details.record)
        return NOT_AT_HAND  # type: ignore[no-any-return]

    @strawberry.field(description="The title lent.")
    @at_hand(_record_at_hand)
    def record(self, info: Info[Context, Any]) -> Record:
        return or_later(self._record_at_hand(), lambda: self._record(info))

    def _copy_at_hand(self) -> Copy:
        if self.details is not None:
            return Copy(row=self.details.copy)
        return NOT_AT_HAND  # type: ignore[no-any-return]

    @strawberry.field(description="The copy lent.")
    @at_hand(_copy_at_hand)
    def copy(self, info: Info[Context, Any]) -> Copy:
        return or_later(self._copy_at_hand(), lambda: self._copy(info))

    @strawberry.field(description="Due date (返却期限), a library day.")
    def due_on(self) -> date:
        return self.row.due_on

    @strawberry.field(description="When it was returned; null while on loan.")
    def returned_at(self) -> datetime | None:
        return self.row.returned_at

    @strawberry.field(description="How many times the loan has been renewed.")
    def renewals(self) -> int:
        return self.row.renewals

    @strawberry.field(description="Library days past the due date; 0 when not overdue.")
    def days_overdue(self, info: Info[Context, Any]) -> int:
        return days_overdue(self.row.due_on, info.context.today())

    async def _renewable(self, info: Info[Context, Any]) -> bool:
        return await self._refusal(info) is None

    async def _blocked_by(self, info: Info[Context, Any]) -> ErrorCode | None:  # type: ignore[valid-type]
        refusal = await self._refusal(info)
        return refusal.code if refusal is not None else None

    def _renewable_at_hand(self) -> bool:
        if self.details is not None:
            return self.details.refusal is None
        return NOT_AT_HAND  # type: ignore[no-any-return]

    @strawberry.field(description="Whether `renewLoans` would renew it today (LOAN-2).")
    @at_hand(_renewable_at_hand)
    def renewable(self, info: Info[Context, Any]) -> bool:
        return or_later(self._renewable_at_hand(), lambda: self._renewable(info))

    def _blocked_by_at_hand(self) -> ErrorCode | None:  # type: ignore[valid-type]
        if self.details is not None:
            refusal = self.details.refusal
            return refusal.code if refusal is not None else None
        return NOT_AT_HAND  # type: ignore[no-any-return]

    @strawberry.field(
        description="Why it can't be renewed today (LOAN-3): `HELD_BY_OTHERS`, `OVERDUE`, "
        "`RENEWAL_LIMIT`, `BOOKMOBILE`, `ART_REPRODUCTION`, `INTER_LIBRARY` or "
        "`RENEWAL_NO_CHANGE` (LOAN-6: renewing today would not move the due date); null if it can."
    )
    @at_hand(_blocked_by_at_hand)
    def renewal_blocked_by(self, info: Info[Context, Any]) -> ErrorCode | None:  # type: ignore[valid-type]
        return or_later(self._blocked_by_at_hand(), lambda: self._blocked_by(info))


@strawberry.type(description="One loan's answer to `renewLoans`.")
class RenewalResult:
    loan_id: strawberry.ID = strawberry.field(description="The loan asked about.")
    loan: Loan | None = strawberry.field(description="The loan, with its new due date if renewed.")
    errors: list[UserError] = strawberry.field(
        description="Why it was not renewed; empty if it was."
    )

    @strawberry.field(description="True when the loan was renewed.")
    def renewed(self) -> bool:
        return not self.errors


@strawberry.type(description="The answer of `renewLoans`: one result per loan (LOAN-4).")
class RenewLoansPayload:
    results: list[RenewalResult] = strawberry.field(description="In the order given.")
    errors: list[UserError] = strawberry.field(
        description="Errors of the whole request (`TOO_MANY_ITEMS`, `DUPLICATE_ID`); when present "
        "nothing was renewed."
    )


@strawberry.type
class LoanQueries:
    @strawberry.field(
        description="The patron's current loans, soonest due first, with whether each can be "
        "renewed (LOAN-1). Needs an active password (AUTH-5).",
        extensions=PATRON,
    )
    async def my_loans(self, info: Info[Context, Any]) -> list[Loan]:
        viewer = patron_viewer(info)
        listed = await loans.open_loans_in_detail(info.context, viewer.patron_id)
        return [Loan(row=row, details=details) for row, details in listed]


@strawberry.type
class HistoryQueries:
    @strawberry.field(
        description="Titles the patron returned, newest first (at most 100). Kept only for "
        "patrons who opted in (`keepReadingHistory`); by default a return forgets the reader.",
        extensions=PATRON,
    )
    async def my_reading_history(self, info: Info[Context, Any]) -> list[Loan]:
        rows = await privacy.reading_history(info.context, patron_viewer(info))
        return [Loan(row=r) for r in rows]


@strawberry.type
class LoanMutations:
    @strawberry.mutation(
        description="Renew several loans at once (LOAN-4): each is renewed to the day of renewal "
        "+ 15 days (14 for a branch room), once, when no one waits for it and it is not "
        "overdue (LOAN-2), or refused with its code (LOAN-3).",
        extensions=PATRON,
    )
    async def renew_loans(
        self, info: Info[Context, Any], loan_ids: list[strawberry.ID]
    ) -> RenewLoansPayload:
        outcomes, errors = await loans.renew(
            info.context, patron_viewer(info), decode_many("Loan", loan_ids)
        )
        locale = info.context.locale
        return RenewLoansPayload(
            results=[
                RenewalResult(
                    loan_id=given,  # echo the id as sent, even one that did not decode
                    loan=Loan(row=o.loan, details=o.details) if o.loan is not None else None,
                    errors=[user_error(e, locale) for e in o.errors],
                )
                for given, o in zip(loan_ids, outcomes, strict=False)
            ],
            errors=user_errors(errors, locale),
        )
