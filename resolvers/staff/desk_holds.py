"""Holds handled for a patron at the desk or on the phone (STAFF-2, HOLD-6): placed with
the patron's own limits, cancelled or moved in any state with a reason, every act audited.

Placement goes through :func:`resolvers.circulation.holds.place`, the one way a hold is placed: the
title is put in the patron's basket and placed from there, as the patron would."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import BasketEntry, Copy, Hold, Library, Patron
from models.db import lock_row
from policies.cards import check_card_valid, check_hold_blocks
from policies.circulation import ACTIVE_HOLD_STATES
from policies.enums import HoldState, PasswordState
from policies.errors import ErrorCode, RuleViolation
from resolvers.accounts.accounts import find_patron_by_card
from resolvers.circulation import hold_list, holds
from resolvers.circulation.trapping import send_in_transit, shelve, trap
from resolvers.shared import privacy
from resolvers.shared.context import Context, PatronViewer
from resolvers.staff.counter import clockwork


def as_viewer(patron: Patron) -> PatronViewer:
    """The patron as the patron-side resolvers see them, for staff acting on their behalf."""
    return PatronViewer(
        patron_id=patron.id,
        session_id=0,
        card_number=patron.card_number,
        password_state=patron.password_state or PasswordState.NONE,
        card_expires_on=patron.card_expires_on,
        via_cookie=False,
    )


async def holds_of(ctx: Context, patron: Patron) -> list[tuple[Hold, hold_list.HoldDetails]]:
    """The patron's holds in play, each with its title and waiting line (HOLD-10)."""
    return await hold_list.active_holds(ctx, as_viewer(patron))


async def place_for(
    ctx: Context, patron: Patron, record_id: int, pickup_library_id: int | None
) -> Hold:
    """Place a hold for the patron: the card and overdue blocks (CARD-1..3) and the hold
    limits (HOLD-1, HOLD-2) apply as if the patron placed it on the web."""
    today = ctx.today()
    check_card_valid(patron.card_expires_on, today)
    loans = await ctx.loaders.open_loans_by_patron.load(patron.id)
    check_hold_blocks([loan.due_on for loan in loans], today, ctx.policy.circulation)
    async with ctx.services.sessions() as db, db.begin():
        entry = (
            await db.execute(
                select(BasketEntry).where(
                    BasketEntry.patron_id == patron.id, BasketEntry.record_id == record_id
                )
            )
        ).scalar_one_or_none()
        created = entry is None
        if entry is None:
            entry = BasketEntry(
                patron_id=patron.id, record_id=record_id, added_at=ctx.services.clock.now()
            )
            db.add(entry)
            await db.flush()
        entry_id = entry.id
    placement = await holds.place(
        ctx, as_viewer(patron), [entry_id], pickup_library_id, confirm=True
    )
    [outcome] = placement.outcomes or [holds.HoldOutcome(entry_id=entry_id, record=None)]
    async with ctx.services.sessions() as db, db.begin():
        if created and outcome.hold is None:  # refused: the basket is as it was
            await db.execute(delete(BasketEntry).where(BasketEntry.id == entry_id))
        if outcome.hold is not None:
            privacy.record_act(db, ctx, "hold_placed", patron.id)
    refusals = placement.errors + outcome.errors
    if refusals:
        raise refusals[0]
    assert outcome.hold is not None
    return outcome.hold


async def _active_hold(db: AsyncSession, hold_id: int) -> Hold:
    """The hold, locked and read fresh; staff may change it in any active state (STAFF-2)."""
    await lock_row(db, Hold, hold_id)
    hold = await db.get(Hold, hold_id, populate_existing=True)
    if hold is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="holdId")
    if hold.state not in ACTIVE_HOLD_STATES:
        raise RuleViolation(ErrorCode.HOLD_NOT_MODIFIABLE, "STAFF-2", state=hold.state.value)
    return hold


async def cancel_for(ctx: Context, hold_id: int, reason: str) -> Hold:
    """Cancel a hold in any active state (STAFF-2). A copy kept on the hold shelf goes to
    the next hold in line or back to the shelf; a copy on its way finds its next use when it
    is received (``receiveTransit``)."""
    at = clockwork(ctx)
    async with ctx.services.sessions() as db, db.begin():
        # The patron before the hold, as every other close takes them: privacy.settle
        # decides under the patron's lock whether the closed hold forgets them.
        patron_id = await db.scalar(select(Hold.patron_id).where(Hold.id == hold_id))
        if patron_id is not None:
            await lock_row(db, Patron, patron_id)
        hold = await _active_hold(db, hold_id)
        was_ready = hold.state is HoldState.READY
        hold.state = HoldState.CANCELLED
        hold.closed_at = at.now
        await db.flush()
        if was_ready and hold.copy_id is not None:
            await lock_row(db, Copy, hold.copy_id)
            copy = await db.get(Copy, hold.copy_id, populate_existing=True)
            assert copy is not None
            here = hold.pickup_library_id
            if await trap(db, copy, here, at) is None:
                shelve(copy, here)
        if patron_id is not None:
            privacy.record_act(db, ctx, "hold_cancelled", patron_id, reason)
            await privacy.settle(db, patron_id, ctx.policy.service.timezone)
    return hold


async def move_for(ctx: Context, hold_id: int, library_id: int, reason: str) -> Hold:
    """Change a hold's pickup library in any active state (STAFF-2). A READY copy leaves
    the hold shelf in transit to the new library; an IN_TRANSIT copy is redirected."""
    library: Library | None = await ctx.loaders.library.load(library_id)
    if library is None or not library.takes_holds:
        raise RuleViolation(ErrorCode.INVALID_PICKUP_LIBRARY, field="pickupLibraryId")
    async with ctx.services.sessions() as db, db.begin():
        hold = await _active_hold(db, hold_id)
        if hold.state is HoldState.READY and library.id != hold.pickup_library_id:
            copy = await db.get(Copy, hold.copy_id)
            assert copy is not None
            send_in_transit(hold, copy, copy.current_library_id or hold.pickup_library_id)
            hold.ready_at = None
            hold.pickup_deadline = None
        hold.pickup_library_id = library.id
        if hold.patron_id is not None:
            privacy.record_act(db, ctx, "hold_moved", hold.patron_id, reason)
    return hold


async def patron_of(ctx: Context, card_number: str) -> Patron:
    """The patron with this card number, or ``NOT_FOUND`` on ``cardNumber``."""
    patron = await find_patron_by_card(ctx, card_number)
    if patron is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="cardNumber")
    return patron
