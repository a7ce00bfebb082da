"""Loans (LOAN-1): what the patron has and when it is due."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from models import Loan as LoanRow
from policies.cards import days_overdue
from resolvers import loans
from resolvers.context import Context
from schema import ids
from schema.catalogue import Record
from schema.permissions import ActivePassword, Authenticated, guard, patron_viewer


@strawberry.type(description="A copy the patron has on loan.")
class Loan:
    row: strawberry.Private[LoanRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("Loan", self.row.id)

    @strawberry.field(description="The title lent.")
    async def record(self, info: Info[Context, Any]) -> Record:
        copy = await info.context.loaders.copy.load(self.row.copy_id)
        row = await info.context.loaders.record.load(copy.record_id)
        return Record(row=row)

    @strawberry.field(description="Due date (返却期限), a library day.")
    def due_on(self) -> date:
        return self.row.due_on

    @strawberry.field(description="How many times the loan has been renewed.")
    def renewals(self) -> int:
        return self.row.renewals

    @strawberry.field(description="Library days past the due date; 0 when not overdue.")
    def days_overdue(self, info: Info[Context, Any]) -> int:
        return days_overdue(self.row.due_on, info.context.today())


@strawberry.field(
    description="The patron's current loans, soonest due first (LOAN-1). Needs an active "
    "password (AUTH-5).",
    extensions=guard(Authenticated(), ActivePassword()),
)
async def my_loans(info: Info[Context, Any]) -> list[Loan]:
    viewer = patron_viewer(info)
    return [Loan(row=row) for row in await loans.open_loans(info.context, viewer.patron_id)]
