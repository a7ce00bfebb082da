"""The staff counter: check-out, check-in, the pull list and transit (LOAN-5, HOLD-5..7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Copy, Hold, Library, Loan, Patron, Record
from models.db import lock_row
from policies.cards import check_card_valid, check_may_collect_holds
from policies.circulation import category, check_loan_limit, loan_due_date
from policies.desk import CheckoutFacts, DeskWarnings, checkout_warnings
from policies.enums import CopyStatus, HoldState
from policies.errors import ErrorCode, RuleViolation
from policies.text import has_nul
from resolvers.circulation.calendar import opening_test
from resolvers.circulation.trapping import Clockwork, make_ready, shelve, trap
from resolvers.shared import privacy
from resolvers.shared.context import Context


def clockwork(ctx: Context) -> Clockwork:
    """The policy and the moment, for a trapping step."""
    return Clockwork(policy=ctx.policy, now=ctx.services.clock.now(), today=ctx.today())


async def _library(ctx: Context, library_id: int) -> Library:
    library: Library | None = await ctx.loaders.library.load(library_id)
    if library is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="libraryId")
    return library


async def _copy_by_barcode(ctx: Context, barcode: str) -> Copy:
    barcode = barcode.strip()
    if not barcode or len(barcode) > 32 or has_nul(barcode):
        raise RuleViolation(ErrorCode.NOT_FOUND, field="barcode")
    async with ctx.services.sessions() as db:
        copy = (await db.execute(select(Copy).where(Copy.barcode == barcode))).scalar_one_or_none()
    if copy is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="barcode")
    return copy


async def _locked(db: AsyncSession, copy_id: int) -> Copy:
    """The copy, locked for this transaction and read fresh (another desk may have moved it)."""
    await lock_row(db, Copy, copy_id)
    copy = await db.get(Copy, copy_id, populate_existing=True)
    assert copy is not None
    return copy


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """A new loan, and the hold it collected if the copy was kept for the patron."""

    loan: Loan
    collected: Hold | None


async def _lendable(db: AsyncSession, copy: Copy, patron: Patron) -> Hold | None:
    """The copy may be lent to ``patron``: on the shelf, or kept for their hold (returned)."""
    kept = (
        await db.execute(
            select(Hold).where(
                Hold.copy_id == copy.id,
                Hold.state.in_((HoldState.READY, HoldState.IN_TRANSIT)),
            )
        )
    ).scalar_one_or_none()
    if kept is not None and kept.patron_id != patron.id:
        raise RuleViolation(ErrorCode.HELD_FOR_ANOTHER, "HOLD-7", field="barcode")
    if kept is None and copy.status is not CopyStatus.AVAILABLE:
        raise RuleViolation(ErrorCode.COPY_UNAVAILABLE, field="barcode", status=copy.status.value)
    if await db.scalar(select(Loan.id).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None))):
        # The copy's status says otherwise, but it was never checked in: check it in first.
        raise RuleViolation(ErrorCode.COPY_UNAVAILABLE, field="barcode", status="ON_LOAN")
    return kept


async def _waiting_hold(db: AsyncSession, patron: Patron, record: Record) -> Hold | None:
    """A patron borrowing a title they were waiting for: that hold is fulfilled."""
    return (
        await db.execute(
            select(Hold)
            .where(
                Hold.patron_id == patron.id,
                Hold.record_id == record.id,
                Hold.state == HoldState.WAITING,
            )
            .limit(1)
        )
    ).scalar_one_or_none()


async def check_out(
    ctx: Context, patron_id: int, barcode: str, library_id: int, override: str | None = None
) -> CheckoutResult:
    """Lend a copy at ``library_id``. A copy kept for the patron's ready hold collects that
    hold, which an overdue block stops (CARD-3); loan limits count per category (LOAN-5).
    Warnings (STAFF-4) stop the loan unless ``override`` gives the reason to go ahead."""
    library = await _library(ctx, library_id)
    copy = await _copy_by_barcode(ctx, barcode)
    at = clockwork(ctx)
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, patron_id)
        patron = await db.get(Patron, patron_id)
        if patron is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="cardNumber")
        copy = await _locked(db, copy.id)
        record = await db.get(Record, copy.record_id)
        assert record is not None
        check_card_valid(patron.card_expires_on, at.today)
        if copy.reference_only:
            raise RuleViolation(ErrorCode.NOT_LOANABLE, "HOLD-1", field="barcode")
        kept = await _lendable(db, copy, patron)
        open_loans = (
            await db.execute(
                select(Loan.due_on, Record.material_type)
                .join(Copy, Copy.id == Loan.copy_id)
                .join(Record, Record.id == Copy.record_id)
                .where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
            )
        ).all()
        collected = kept or await _waiting_hold(db, patron, record)
        if collected is not None and collected.state is not HoldState.WAITING:
            check_may_collect_holds([d for d, _ in open_loans], at.today, ctx.policy.circulation)
        in_category = sum(1 for _, m in open_loans if category(m) == category(record.material_type))
        check_loan_limit(record.material_type, in_category, ctx.policy.circulation)
        await _warn(db, ctx, patron, record, [d for d, _ in open_loans], kept, override)
        lending = await db.get(Library, library.id)
        assert lending is not None
        due = loan_due_date(
            at.today,
            lending.kind,
            await opening_test(db, lending, at.today),
            ctx.policy.circulation,
        )
        loan = Loan(
            copy_id=copy.id,
            patron_id=patron.id,
            library_id=library.id,
            loaned_at=at.now,
            due_on=due,
        )
        db.add(loan)
        copy.status = CopyStatus.ON_LOAN
        copy.current_library_id = None
        if collected is not None:
            collected.state = HoldState.COLLECTED
            collected.copy_id = copy.id
            collected.closed_at = at.now
            await privacy.settle(db, patron.id, ctx.policy.service.timezone)
    return CheckoutResult(loan=loan, collected=collected)


async def _warn(
    db: AsyncSession,
    ctx: Context,
    patron: Patron,
    record: Record,
    due_dates: list[date],
    kept: Hold | None,
    override: str | None,
) -> None:
    """STAFF-4: raise the warnings for this loan, or audit the override that passes them."""
    wanted = kept is None and bool(
        await db.scalar(
            select(Hold.id)
            .where(
                Hold.record_id == record.id,
                Hold.state == HoldState.WAITING,
                Hold.copy_id.is_(None),
                Hold.patron_id != patron.id,
            )
            .limit(1)
        )
    )
    facts = CheckoutFacts(tuple(due_dates), patron.card_expires_on, wanted)
    warnings = checkout_warnings(facts, ctx.today())
    if warnings and override is None:
        raise DeskWarnings(warnings)
    if warnings:
        codes = ",".join(w.code.value for w in warnings)
        privacy.record_act(db, ctx, "checkout_override", patron.id, f"{codes}: {override}")


@dataclass(frozen=True, slots=True)
class CheckinResult:
    """What a returned copy came to: the loan closed, and the hold it now serves if any."""

    copy: Copy
    loan: Loan | None
    hold: Hold | None


async def check_in(ctx: Context, barcode: str, library_id: int) -> CheckinResult:
    """Return a copy at ``library_id``. If a hold waits for the title, the copy is trapped for
    the first in line: READY here, or IN_TRANSIT to its pickup library (LOAN-5)."""
    await _library(ctx, library_id)
    copy = await _copy_by_barcode(ctx, barcode)
    at = clockwork(ctx)
    if copy.status is CopyStatus.IN_TRANSIT:
        # Not a return: the copy is travelling. At its destination it is received; anywhere
        # else the answer names where it goes (STAFF-4).
        return await receive_transit(ctx, barcode, library_id)
    async with ctx.services.sessions() as db, db.begin():
        # The borrower first, then the copy: the order check-out takes them in, so a return
        # and a loan to the same patron never wait for each other (privacy.settle locks them).
        borrower = await db.scalar(
            select(Loan.patron_id).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None))
        )
        if borrower is not None:
            await lock_row(db, Patron, borrower)
        copy = await _locked(db, copy.id)
        if copy.status not in (CopyStatus.ON_LOAN, CopyStatus.AVAILABLE, CopyStatus.MISSING):
            raise RuleViolation(
                ErrorCode.COPY_UNAVAILABLE, field="barcode", status=copy.status.value
            )
        loan = (
            await db.execute(
                select(Loan).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None))
            )
        ).scalar_one_or_none()
        if loan is not None:
            loan.returned_at = at.now
        hold = await trap(db, copy, library_id, at)
        if hold is None:
            shelve(copy, library_id)
        if loan is not None:
            # Keep or forget, decided under the borrower's lock (an opt-out waits for it).
            await privacy.settle(db, loan.patron_id, ctx.policy.service.timezone)
    return CheckinResult(copy=copy, loan=loan, hold=hold)


async def mark_pulled(ctx: Context, barcode: str) -> CheckinResult:
    """A copy taken from the shelf for the pull list is trapped for the first hold in line."""
    copy = await _copy_by_barcode(ctx, barcode)
    at = clockwork(ctx)
    async with ctx.services.sessions() as db, db.begin():
        copy = await _locked(db, copy.id)
        if copy.status is not CopyStatus.AVAILABLE or copy.current_library_id is None:
            raise RuleViolation(
                ErrorCode.COPY_UNAVAILABLE, field="barcode", status=copy.status.value
            )
        if copy.reference_only or copy.from_other_city:
            raise RuleViolation(ErrorCode.NOT_HOLDABLE, "HOLD-1", field="barcode")
        hold = await trap(db, copy, copy.current_library_id, at)
        if hold is None:
            raise RuleViolation(ErrorCode.NO_WAITING_HOLD, "HOLD-5", field="barcode")
    return CheckinResult(copy=copy, loan=None, hold=hold)


async def receive_transit(ctx: Context, barcode: str, library_id: int) -> CheckinResult:
    """A copy in transit arrives at ``library_id``: its hold becomes READY there, or the copy
    is back home on the shelf (HOLD-6)."""
    await _library(ctx, library_id)
    copy = await _copy_by_barcode(ctx, barcode)
    at = clockwork(ctx)
    async with ctx.services.sessions() as db, db.begin():
        copy = await _locked(db, copy.id)
        if copy.status is not CopyStatus.IN_TRANSIT:
            raise RuleViolation(ErrorCode.NOT_IN_TRANSIT, field="barcode", status=copy.status.value)
        hold = (
            await db.execute(
                select(Hold).where(Hold.copy_id == copy.id, Hold.state == HoldState.IN_TRANSIT)
            )
        ).scalar_one_or_none()
        if hold is not None and hold.pickup_library_id == library_id:
            await make_ready(db, hold, copy, at)
        elif hold is None:
            hold = await trap(db, copy, library_id, at)
            if hold is None and library_id != copy.library_id:
                await _wrong_library(db, copy.library_id)  # rolls the trap attempt back
            if hold is None:
                shelve(copy, library_id)
        else:
            await _wrong_library(db, hold.pickup_library_id)
    return CheckinResult(copy=copy, loan=None, hold=hold)


async def _wrong_library(db: AsyncSession, destination_id: int) -> None:
    """STAFF-4: a copy received where it is not going is refused, naming where it goes."""
    destination = await db.get(Library, destination_id)
    name = destination.name if destination is not None else ""
    raise RuleViolation(
        ErrorCode.WRONG_LIBRARY,
        "STAFF-4",
        field="libraryId",
        library=name,
        library_id=destination_id,
    )
