"""E-books (EBOOK-1..5): borrow a licence, return early or automatically after 15 days,
hold a title when every licence is out (kept a week once secured), and read through a
short-lived signed link: the API hands out reading access, never files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import EbookHold, EbookLoan, EbookTitle, Patron, Record
from models.db import lock_row
from policies.config import PolicyConfig
from policies.ebooks import (
    check_borrow,
    check_ebook_patron,
    check_hold,
    ebook_hold_kept_until,
    free_licences,
)
from policies.enums import EbookHoldState
from policies.errors import ErrorCode, RuleViolation
from resolvers.mail.outbox import queue_mail
from resolvers.shared import privacy
from resolvers.shared.context import Context, PatronViewer

ACTIVE_HOLDS = (EbookHoldState.WAITING, EbookHoldState.READY)


async def _licences(db: AsyncSession, record_id: int) -> tuple[int, int, int]:
    """(licences, open loans, READY holds) of a title."""
    title = await db.get(EbookTitle, record_id)
    if title is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="recordId")
    loans = (
        await db.execute(
            select(func.count()).where(
                EbookLoan.record_id == record_id, EbookLoan.returned_at.is_(None)
            )
        )
    ).scalar_one()
    ready = (
        await db.execute(
            select(func.count()).where(
                EbookHold.record_id == record_id, EbookHold.state == EbookHoldState.READY
            )
        )
    ).scalar_one()
    return title.licences, int(loans), int(ready)


async def _patron(ctx: Context, db: AsyncSession, viewer: PatronViewer) -> Patron:
    patron = await db.get(Patron, viewer.patron_id)
    assert patron is not None
    check_ebook_patron(patron.password_state, patron.card_kind, patron.birth_date, ctx.today())
    return patron


async def _locked_title(
    ctx: Context, db: AsyncSession, viewer: PatronViewer, record_id: int
) -> tuple[int, int, int]:
    """Lock the title (one licence, one patron: counted under a lock) and the patron, check
    the patron may use e-books (EBOOK-1), and count the title's licences."""
    await lock_row(db, Record, record_id)
    await lock_row(db, Patron, viewer.patron_id)
    await _patron(ctx, db, viewer)
    return await _licences(db, record_id)


async def borrow(ctx: Context, viewer: PatronViewer, record_id: int) -> EbookLoan:
    """Borrow an e-book for 15 days (EBOOK-2), using a free licence or the one kept for the
    patron's secured hold (EBOOK-3, EBOOK-4)."""
    now = ctx.services.clock.now()
    policy = ctx.policy.ebooks
    async with ctx.services.sessions() as db, db.begin():
        licences, on_loan, ready = await _locked_title(ctx, db, viewer, record_id)
        mine = (
            await db.execute(
                select(EbookHold).where(
                    EbookHold.record_id == record_id,
                    EbookHold.patron_id == viewer.patron_id,
                    EbookHold.state == EbookHoldState.READY,
                )
            )
        ).scalar_one_or_none()
        open_loans = (
            (
                await db.execute(
                    select(EbookLoan.record_id).where(
                        EbookLoan.patron_id == viewer.patron_id, EbookLoan.returned_at.is_(None)
                    )
                )
            )
            .scalars()
            .all()
        )
        if record_id in open_loans:
            raise RuleViolation(ErrorCode.ALREADY_ON_LOAN, "EBOOK-2")
        check_borrow(
            len(open_loans),
            free_licences(licences, on_loan, ready),
            policy,
            kept_for_me=mine is not None,
        )
        if mine is not None:
            mine.state = EbookHoldState.COLLECTED
            mine.closed_at = now
        loan = EbookLoan(
            record_id=record_id,
            patron_id=viewer.patron_id,
            borrowed_at=now,
            due_at=now + timedelta(days=policy.loan_days),
        )
        db.add(loan)
        if mine is not None:
            await privacy.settle(db, viewer.patron_id, ctx.policy.service.timezone)
    return loan


async def secure_next(
    db: AsyncSession, record_id: int, policy: PolicyConfig, now: datetime
) -> None:
    """Give free licences to the oldest waiting holds: READY for a week, with a mail to a
    patron with an address (EBOOK-3, MAIL-5)."""
    licences, on_loan, ready = await _licences(db, record_id)
    free = free_licences(licences, on_loan, ready)
    if free < 1:
        return
    waiting = (
        (
            await db.execute(
                select(EbookHold)
                .where(EbookHold.record_id == record_id, EbookHold.state == EbookHoldState.WAITING)
                .order_by(EbookHold.placed_at, EbookHold.id)
                .limit(free)
            )
        )
        .scalars()
        .all()
    )
    record = await db.get(Record, record_id)
    for hold in waiting:
        hold.state = EbookHoldState.READY
        hold.ready_at = now
        kept = ebook_hold_kept_until(now, policy.service.timezone, policy.ebooks.hold_keep_days)
        hold.expires_at = kept.ends_at
        patron = await db.get(Patron, hold.patron_id)
        if patron is not None and (patron.email1 or patron.email2) and record is not None:
            deadline = kept.last_day
            await queue_mail(
                db,
                kind="ebook_hold_ready",
                dedupe_key=f"ebook-hold-ready:{hold.id}",
                patron_id=patron.id,
                payload={"hold_id": hold.id, "title": record.title, "deadline": str(deadline)},
                not_before=now,
                now=now,
            )


async def give_back(ctx: Context, viewer: PatronViewer, loan_id: int) -> EbookLoan:
    """Return an e-book early (EBOOK-2); the licence goes to the next hold."""
    now = ctx.services.clock.now()
    async with ctx.services.sessions() as db, db.begin():
        loan = await db.get(EbookLoan, loan_id)
        if loan is None or loan.patron_id != viewer.patron_id or loan.returned_at is not None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="loanId")
        await lock_row(db, Record, loan.record_id)
        loan.returned_at = now
        await db.flush()
        await secure_next(db, loan.record_id, ctx.policy, now)
        await privacy.settle(db, viewer.patron_id, ctx.policy.service.timezone)
    return loan


async def place_hold(ctx: Context, viewer: PatronViewer, record_id: int) -> EbookHold:
    """Hold an e-book whose licences are all out: at most 3, one per title (EBOOK-3)."""
    now = ctx.services.clock.now()
    async with ctx.services.sessions() as db, db.begin():
        licences, on_loan, ready = await _locked_title(ctx, db, viewer, record_id)
        held = (
            (
                await db.execute(
                    select(EbookHold.record_id).where(
                        EbookHold.patron_id == viewer.patron_id, EbookHold.state.in_(ACTIVE_HOLDS)
                    )
                )
            )
            .scalars()
            .all()
        )
        check_hold(
            len(held), record_id in held, free_licences(licences, on_loan, ready), ctx.policy.ebooks
        )
        hold = EbookHold(record_id=record_id, patron_id=viewer.patron_id, placed_at=now)
        db.add(hold)
    return hold


async def cancel_hold(ctx: Context, viewer: PatronViewer, hold_id: int) -> EbookHold:
    """Cancel one's own waiting or secured e-book hold; a kept licence goes on."""
    now = ctx.services.clock.now()
    async with ctx.services.sessions() as db, db.begin():
        hold = await db.get(EbookHold, hold_id)
        if hold is None or hold.patron_id != viewer.patron_id or hold.state not in ACTIVE_HOLDS:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="holdId")
        await lock_row(db, Record, hold.record_id)
        hold.state = EbookHoldState.CANCELLED
        hold.closed_at = now
        await db.flush()
        await secure_next(db, hold.record_id, ctx.policy, now)
        await privacy.settle(db, viewer.patron_id, ctx.policy.service.timezone)
    return hold


async def sweep(
    sessions: async_sessionmaker[AsyncSession], policy: PolicyConfig, now: datetime
) -> tuple[int, int]:
    """Automatic return after 15 days (EBOOK-2) and expiry of secured holds not borrowed in
    a week (EBOOK-3); freed licences go to the next holds. Idempotent; catches up."""
    due_loans = select(EbookLoan).where(EbookLoan.returned_at.is_(None), EbookLoan.due_at <= now)
    due_holds = select(EbookHold).where(
        EbookHold.state == EbookHoldState.READY, EbookHold.expires_at < now
    )
    async with sessions() as db, db.begin():
        # Their patrons first, in id order (as a borrow takes the patron before the hold),
        # then the rows read afresh: each return or expiry is then settled (privacy.settle).
        seen = [*(await db.execute(due_loans)).scalars(), *(await db.execute(due_holds)).scalars()]
        for patron_id in sorted({r.patron_id for r in seen if r.patron_id is not None}):
            await lock_row(db, Patron, patron_id)
        fresh = {"populate_existing": True}  # as they are now, under the patrons' locks
        loans = (await db.execute(due_loans, execution_options=fresh)).scalars().all()
        holds = (await db.execute(due_holds, execution_options=fresh)).scalars().all()
        for loan in loans:
            loan.returned_at = loan.due_at
        for hold in holds:
            hold.state = EbookHoldState.EXPIRED
            hold.closed_at = now
        await db.flush()
        for record_id in {loan.record_id for loan in loans} | {hold.record_id for hold in holds}:
            await secure_next(db, record_id, policy, now)
        ended = {loan.patron_id for loan in loans} | {hold.patron_id for hold in holds}
        for patron_id in sorted(p for p in ended if p is not None):
            await privacy.settle(db, patron_id, policy.service.timezone)
    return len(loans), len(holds)


async def loans(ctx: Context, viewer: PatronViewer) -> Sequence[EbookLoan]:
    """The patron's e-books on loan, soonest due first."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(EbookLoan)
            .where(EbookLoan.patron_id == viewer.patron_id, EbookLoan.returned_at.is_(None))
            .order_by(EbookLoan.due_at)
        )
        return rows.scalars().all()


async def holds(ctx: Context, viewer: PatronViewer) -> Sequence[EbookHold]:
    """The patron's e-book holds in play, oldest first."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(EbookHold)
            .where(EbookHold.patron_id == viewer.patron_id, EbookHold.state.in_(ACTIVE_HOLDS))
            .order_by(EbookHold.placed_at, EbookHold.id)
        )
        return rows.scalars().all()
