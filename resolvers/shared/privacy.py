"""Reading privacy: what a patron has read is nobody's business.

A returned loan keeps no link to the patron unless the patron opted in to a reading
history; opting out erases it. Staff reads of a patron's personal data are audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Loan, Patron, StaffAudit
from resolvers.shared.context import Context, PatronViewer, StaffViewer

MAX_HISTORY = 100


async def on_return(db: AsyncSession, loan: Loan) -> None:
    """At check-in: forget the borrower of a returned loan unless they keep a history."""
    if loan.patron_id is None:
        return
    patron = await db.get(Patron, loan.patron_id)
    if patron is None or not patron.keep_reading_history:
        loan.patron_id = None


async def erase_history(db: AsyncSession, patron_id: int) -> None:
    """Opting out erases: every returned loan forgets the patron."""
    await db.execute(
        update(Loan)
        .where(Loan.patron_id == patron_id, Loan.returned_at.is_not(None))
        .values(patron_id=None)
        .execution_options(synchronize_session=False)
    )


async def reading_history(ctx: Context, viewer: PatronViewer) -> Sequence[Loan]:
    """The patron's returned loans, newest first (only kept when opted in)."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(Loan)
            .where(Loan.patron_id == viewer.patron_id, Loan.returned_at.is_not(None))
            .order_by(Loan.returned_at.desc(), Loan.id.desc())
            .limit(MAX_HISTORY)
        )
        return rows.scalars().all()


async def audit(ctx: Context, action: str, patron_id: int) -> None:
    """Record that the staff member asking read a patron's personal data."""
    viewer = ctx.viewer
    if not isinstance(viewer, StaffViewer):
        return
    async with ctx.services.sessions() as db, db.begin():
        db.add(
            StaffAudit(
                staff_id=viewer.staff_id,
                patron_id=patron_id,
                action=action,
                at=ctx.services.clock.now(),
            )
        )


async def audit_log(ctx: Context, patron_id: int) -> Sequence[StaffAudit]:
    """Who on the staff read a patron's data, newest first."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(StaffAudit)
            .where(StaffAudit.patron_id == patron_id)
            .order_by(StaffAudit.at.desc(), StaffAudit.id.desc())
            .limit(200)
        )
        return rows.scalars().all()
