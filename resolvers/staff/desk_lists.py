"""The desk's lists per library (HOLD-5, HOLD-8, STAFF-3, STAFF-5): the pull list, the hold
shelf, expired holds to clear, transits expected and the call list, and marking a call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Copy, Hold, Library, Patron, Record
from models.db import lock_row
from policies.enums import ContactMethod, CopyStatus, HoldState
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared import privacy
from resolvers.shared.context import Context, StaffViewer

MAX_ROWS = 500
MAX_OUTCOME = 100


async def _library(ctx: Context, library_id: int) -> Library:
    library: Library | None = await ctx.loaders.library.load(library_id)
    if library is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="libraryId")
    return library


@dataclass(frozen=True, slots=True)
class PullItem:
    """A copy on the shelf that a waiting hold needs (HOLD-5), and the first hold in line:
    whom it is for (card number) and where it is collected (STAFF-5)."""

    copy: Copy
    record: Record
    holds_waiting: int
    oldest_placed_at: datetime
    first_hold: Hold | None


def _start_of(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(timezone))


def _waiting_before(before: datetime, day: date) -> list[ColumnElement[bool]]:
    """Holds the pull list serves: waiting, placed before the day, not paused (HOLD-5)."""
    return [
        Hold.state == HoldState.WAITING,
        Hold.copy_id.is_(None),
        Hold.placed_at < before,
        or_(Hold.paused_until.is_(None), Hold.paused_until <= day),
    ]


async def _first_in_line(
    db: AsyncSession, record_ids: set[int], before: datetime, day: date
) -> dict[int, Hold]:
    rows = await db.execute(
        select(Hold)
        .where(*_waiting_before(before, day), Hold.record_id.in_(record_ids))
        .order_by(Hold.placed_at.desc(), Hold.id.desc())
    )
    return {hold.record_id: hold for hold in rows.scalars()}  # the oldest wins: last written


async def pull_list(ctx: Context, library_id: int, day: date | None = None) -> Sequence[PullItem]:
    """Copies on the shelf at a library that holds placed before ``day`` (default today)
    need: a hold is never ready at once, staff pull copies the next morning (HOLD-5)."""
    await _library(ctx, library_id)
    day = day or ctx.today()
    before = _start_of(day, ctx.policy.service.timezone)
    waiting = (
        select(Hold.record_id, func.count().label("n"), func.min(Hold.placed_at).label("oldest"))
        .where(*_waiting_before(before, day))
        .group_by(Hold.record_id)
        .subquery()
    )
    stmt = (
        select(Copy, Record, waiting.c.n, waiting.c.oldest)
        .join(waiting, waiting.c.record_id == Copy.record_id)
        .join(Record, Record.id == Copy.record_id)
        .where(
            Copy.current_library_id == library_id,
            Copy.status == CopyStatus.AVAILABLE,
            ~Copy.reference_only,
            ~Copy.from_other_city,
        )
        .order_by(waiting.c.oldest, Copy.shelf_mark, Copy.id)
        .limit(MAX_ROWS)
    )
    async with ctx.services.sessions() as db:
        rows = (await db.execute(stmt)).all()
        first = await _first_in_line(db, {r.id for _, r, _, _ in rows}, before, day)
    return [
        PullItem(copy=c, record=r, holds_waiting=n, oldest_placed_at=o, first_hold=first.get(r.id))
        for c, r, n, o in rows
    ]


async def _holds(ctx: Context, stmt: Select[Hold]) -> Sequence[Hold]:
    async with ctx.services.sessions() as db:
        return (await db.execute(stmt.limit(MAX_ROWS))).scalars().all()


async def hold_shelf(ctx: Context, library_id: int) -> Sequence[Hold]:
    """READY holds on a library's hold shelf, soonest pickup deadline first (HOLD-8)."""
    await _library(ctx, library_id)
    return await _holds(
        ctx,
        select(Hold)
        .where(Hold.pickup_library_id == library_id, Hold.state == HoldState.READY)
        .order_by(Hold.pickup_deadline, Hold.id),
    )


async def expired_holds(ctx: Context, library_id: int) -> Sequence[Hold]:
    """READY holds whose pickup deadline has passed: to take off the shelf (HOLD-8)."""
    await _library(ctx, library_id)
    return await _holds(
        ctx,
        select(Hold)
        .where(
            Hold.pickup_library_id == library_id,
            Hold.state == HoldState.READY,
            Hold.pickup_deadline < ctx.today(),
        )
        .order_by(Hold.pickup_deadline, Hold.id),
    )


async def transits_expected(ctx: Context, library_id: int) -> Sequence[Copy]:
    """Copies on their way to a library: for its holds, or coming home to its shelf."""
    await _library(ctx, library_id)
    for_holds = select(Hold.copy_id).where(
        Hold.state == HoldState.IN_TRANSIT, Hold.copy_id.is_not(None)
    )
    to_pickup = select(Hold.copy_id).where(
        Hold.state == HoldState.IN_TRANSIT, Hold.pickup_library_id == library_id
    )
    stmt = (
        select(Copy)
        .where(
            Copy.status == CopyStatus.IN_TRANSIT,
            or_(
                Copy.id.in_(to_pickup),
                (Copy.library_id == library_id) & Copy.id.not_in(for_holds),
            ),
        )
        .order_by(Copy.shelf_mark, Copy.id)
        .limit(MAX_ROWS)
    )
    async with ctx.services.sessions() as db:
        return (await db.execute(stmt)).scalars().all()


async def call_list(ctx: Context, library_id: int) -> Sequence[Hold]:
    """STAFF-3: READY holds at a library whose patron is to be phoned (contact method
    PHONE, or mail that bounced), not yet called; soonest deadline first."""
    await _library(ctx, library_id)
    bounced = Patron.email1_failure.is_not(None) | Patron.email2_failure.is_not(None)
    return await _holds(
        ctx,
        select(Hold)
        .join(Patron, Patron.id == Hold.patron_id)
        .where(
            Hold.pickup_library_id == library_id,
            Hold.state == HoldState.READY,
            Hold.called_at.is_(None),
            or_(Patron.contact_method == ContactMethod.PHONE, bounced),
        )
        .order_by(Hold.pickup_deadline, Hold.id),
    )


async def mark_called(ctx: Context, hold_id: int, outcome: str) -> Hold:
    """STAFF-3: the call for a READY hold was made: who, when and the outcome."""
    outcome = " ".join(outcome.split())
    if not outcome or len(outcome) > MAX_OUTCOME or not outcome.isprintable():
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="outcome", max_length=MAX_OUTCOME)
    viewer = ctx.viewer
    assert isinstance(viewer, StaffViewer)
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Hold, hold_id)
        hold = await db.get(Hold, hold_id, populate_existing=True)
        if hold is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="holdId")
        if hold.state is not HoldState.READY:
            raise RuleViolation(ErrorCode.HOLD_NOT_MODIFIABLE, "STAFF-3", state=hold.state.value)
        hold.called_at = ctx.services.clock.now()
        hold.called_by_staff_id = viewer.staff_id
        hold.call_outcome = outcome
        if hold.patron_id is not None:
            privacy.record_act(db, ctx, "hold_called", hold.patron_id, outcome)
    return hold


async def holds_for_copies(ctx: Context, copy_ids: Sequence[int]) -> dict[int, Hold]:
    """The IN_TRANSIT hold each copy travels for, by copy id (copies going home have none)."""
    if not copy_ids:
        return {}
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(Hold).where(Hold.copy_id.in_(copy_ids), Hold.state == HoldState.IN_TRANSIT)
        )
        return {h.copy_id: h for h in rows.scalars() if h.copy_id is not None}
