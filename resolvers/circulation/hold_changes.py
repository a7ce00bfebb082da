"""The changes a patron may make to their own WAITING hold (HOLD-6): cancel it, move it
to another pickup library, pause or resume it. Each takes the patron's and the hold's row
locks, as the desk does, so a change never races a collection."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Hold, Patron
from models.db import lock_row
from policies.circulation import check_modifiable
from policies.enums import HoldState
from policies.errors import ErrorCode, RuleViolation
from resolvers.circulation.holds import pickup_library
from resolvers.shared import privacy
from resolvers.shared.context import Context, PatronViewer

MAX_PAUSE_DAYS = 365
CLOSED_HOLD_STATES = (HoldState.COLLECTED, HoldState.CANCELLED, HoldState.EXPIRED)


async def _modify(ctx: Context, viewer: PatronViewer, hold_id: int, **values: object) -> Hold:
    """Change the patron's own WAITING hold under a lock; another patron's hold is
    ``NOT_FOUND`` (no leak), a hold past WAITING ``HOLD_NOT_MODIFIABLE`` (HOLD-6)."""
    async with ctx.services.sessions() as db, db.begin():
        # The patron before the hold, as check-out takes them: a cancellation settles
        # (privacy.settle locks the patron) while a desk may be collecting this hold.
        await lock_row(db, Patron, viewer.patron_id)
        hold = await locked_hold(db, hold_id)
        if hold is None or hold.patron_id != viewer.patron_id:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="holdId")
        check_modifiable(hold.state)
        for name, value in values.items():
            setattr(hold, name, value)
        if hold.state in CLOSED_HOLD_STATES:
            tz = ctx.policy.service.timezone
            await privacy.settle(db, viewer.patron_id, tz, locked=True, ended_now=[hold])
    return hold


_HOLD_LOCKED = (
    select(Hold)
    .where(Hold.id == bindparam("hold"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def locked_hold(db: AsyncSession, hold_id: int) -> Hold | None:
    """The hold's row, locked for the rest of ``db``'s transaction and read afresh: one
    statement on PostgreSQL (``FOR UPDATE``); SQLite takes its write lock first."""
    if db.get_bind().dialect.name == "sqlite":
        await lock_row(db, Hold, hold_id)
    found: Hold | None = await db.scalar(_HOLD_LOCKED, {"hold": hold_id})
    return found


async def cancel(ctx: Context, viewer: PatronViewer, hold_id: int) -> Hold:
    """Cancel a WAITING hold (HOLD-6); later ones move up the queue."""
    return await _modify(
        ctx, viewer, hold_id, state=HoldState.CANCELLED, closed_at=ctx.services.clock.now()
    )


async def change_pickup(ctx: Context, viewer: PatronViewer, hold_id: int, library_id: int) -> Hold:
    """Move a WAITING hold to another pickup library (HOLD-6)."""
    async with ctx.services.sessions() as db:
        patron = await db.get(Patron, viewer.patron_id)
        assert patron is not None
        library = await pickup_library(db, library_id, patron)
    return await _modify(ctx, viewer, hold_id, pickup_library_id=library.id)


async def pause(ctx: Context, viewer: PatronViewer, hold_id: int, until: date | None) -> Hold:
    """Pause a WAITING hold until ``until`` (it keeps its place and is skipped meanwhile),
    or resume it with ``None``."""
    today = ctx.today()
    if until is not None and not today < until <= today + timedelta(days=MAX_PAUSE_DAYS):
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="until", max_days=MAX_PAUSE_DAYS)
    return await _modify(ctx, viewer, hold_id, paused_until=until)
