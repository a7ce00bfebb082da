"""Loans renewed for a patron who phones or comes to the desk (STAFF-2): the LOAN rules
apply as on the web; a clerk with the OVERRIDE role may renew past a refusal, giving the
reason, which is audited."""

from __future__ import annotations

from sqlalchemy import select

from models import Copy, Library, Loan, Patron
from models.db import lock_row
from policies.circulation import renewal_due_date
from policies.errors import ErrorCode, RuleViolation
from resolvers.circulation import loans
from resolvers.circulation.calendar import opening_test
from resolvers.shared import privacy
from resolvers.shared.context import Context
from resolvers.staff.desk_holds import as_viewer


async def renew_for(
    ctx: Context, patron: Patron, loan_id: int, override: str | None = None
) -> Loan:
    """Renew one of the patron's loans (LOAN-2, LOAN-3). A refusal is raised, unless
    ``override`` (the reason) is given: then the loan is renewed anyway and audited."""
    [outcome], errors = await loans.renew(ctx, as_viewer(patron), [loan_id])
    if errors:
        raise errors[0]
    if not outcome.errors:
        async with ctx.services.sessions() as db, db.begin():
            privacy.record_act(db, ctx, "loan_renewed", patron.id)
        assert outcome.loan is not None
        return outcome.loan
    refusal = outcome.errors[0]
    if override is None or refusal.code is ErrorCode.NOT_FOUND:
        raise refusal
    return await _force_renewal(ctx, patron, loan_id, f"{refusal.code.value}: {override}")


async def _force_renewal(ctx: Context, patron: Patron, loan_id: int, reason: str) -> Loan:
    today = ctx.today()
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, patron.id)
        row = (
            await db.execute(
                select(Loan, Library)
                .join(Copy, Copy.id == Loan.copy_id)
                .join(Library, Library.id == Loan.library_id)
                .where(
                    Loan.id == loan_id,
                    Loan.patron_id == patron.id,
                    Loan.returned_at.is_(None),
                )
            )
        ).one_or_none()
        if row is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="loanId")
        loan, library = row
        test = await opening_test(db, library, today)
        loan.due_on = renewal_due_date(today, library.kind, test, ctx.policy.circulation)
        loan.renewals += 1
        privacy.record_act(db, ctx, "loan_renewed_override", patron.id, reason)
    return loan
