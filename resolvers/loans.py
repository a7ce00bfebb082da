"""Loans as the patron sees them (LOAN-1)."""

from __future__ import annotations

from collections.abc import Sequence

from models import Loan
from resolvers.context import Context


async def open_loans(ctx: Context, patron_id: int) -> Sequence[Loan]:
    """The patron's loans not yet returned, soonest due first."""
    loans: Sequence[Loan] = await ctx.loaders.open_loans_by_patron.load(patron_id)
    return loans
