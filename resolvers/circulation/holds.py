"""Holds as the patron sees them: the two-step placement from the basket (BASKET-2),
the hold list with queue positions (HOLD-7, HOLD-10), and the changes a patron may make to
a waiting hold (HOLD-6)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import delete, select

from models import BasketEntry, Copy, Hold, Library, Loan, Patron, Record
from models.db import lock_row
from policies.circulation import (
    ACTIVE_HOLD_STATES,
    Category,
    CopyFacts,
    HoldRequest,
    category,
    check_hold,
    check_modifiable,
)
from policies.enums import CopyStatus, HoldState
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared.context import Context, PatronViewer

MAX_BATCH = 100
MAX_PAUSE_DAYS = 365


@dataclass(slots=True)
class HoldOutcome:
    """One basket entry's verdict (preview) or result (placement)."""

    entry_id: int
    record: Record | None
    hold: Hold | None = None
    errors: list[RuleViolation] = field(default_factory=list)


@dataclass(slots=True)
class Placement:
    """The answer to a preview or a placement: a batch-level error, or one outcome per entry."""

    outcomes: list[HoldOutcome] = field(default_factory=list)
    errors: list[RuleViolation] = field(default_factory=list)
    pickup: Library | None = None


def check_batch(ids: Sequence[object], field_name: str) -> None:
    """At most 100 ids, each once."""
    if len(ids) > MAX_BATCH:
        raise RuleViolation(ErrorCode.TOO_MANY_ITEMS, field=field_name, max=MAX_BATCH)
    if len(set(ids)) != len(ids):
        raise RuleViolation(ErrorCode.DUPLICATE_ID, field=field_name)


async def _pickup(ctx: Context, library_id: int | None, patron: Patron) -> Library:
    chosen = library_id if library_id is not None else patron.default_pickup_library_id
    library: Library | None = await ctx.loaders.library.load(chosen) if chosen is not None else None
    if library is None or not library.takes_holds:
        raise RuleViolation(ErrorCode.INVALID_PICKUP_LIBRARY, field="pickupLibraryId")
    return library


async def place(
    ctx: Context,
    viewer: PatronViewer,
    entry_ids: Sequence[int | None],
    pickup_library_id: int | None,
    *,
    confirm: bool,
) -> Placement:
    """Check (``confirm=False``, 予約内容確認) or place (``confirm=True``, 予約結果) holds for
    basket entries. Each title succeeds or fails on its own; placed titles leave the basket.

    The patron's row is locked for the whole placement, so concurrent placements by one
    patron are counted one after the other and can never pass the limit together.
    ``None`` in ``entry_ids`` stands for an id that did not decode: it is ``NOT_FOUND``.
    """
    try:
        check_batch([i for i in entry_ids if i is not None], "basketEntryIds")
        async with ctx.services.sessions() as db:
            patron = await db.get(Patron, viewer.patron_id)
        assert patron is not None
        pickup = await _pickup(ctx, pickup_library_id, patron)
    except RuleViolation as bad:
        return Placement(errors=[bad])
    now = ctx.services.clock.now()
    result = Placement(pickup=pickup)
    async with ctx.services.sessions() as db, db.begin():
        if confirm:
            await lock_row(db, Patron, viewer.patron_id)
        known = [i for i in entry_ids if i is not None]
        entries = {
            e.id: e
            for e in (
                await db.execute(
                    select(BasketEntry).where(
                        BasketEntry.id.in_(known), BasketEntry.patron_id == viewer.patron_id
                    )
                )
            ).scalars()
        }
        record_ids = {e.record_id for e in entries.values()}
        records = {
            r.id: r
            for r in (await db.execute(select(Record).where(Record.id.in_(record_ids)))).scalars()
        }
        copies: dict[int, list[CopyFacts]] = {rid: [] for rid in record_ids}
        for c in (await db.execute(select(Copy).where(Copy.record_id.in_(record_ids)))).scalars():
            copies[c.record_id].append(
                CopyFacts(c.reference_only, c.from_other_city, c.status is CopyStatus.WITHDRAWN)
            )
        active = (
            await db.execute(
                select(Hold.record_id, Record.material_type)
                .join(Record, Record.id == Hold.record_id)
                .where(Hold.patron_id == viewer.patron_id, Hold.state.in_(ACTIVE_HOLD_STATES))
            )
        ).all()
        held = {rid for rid, _ in active}
        per_category: Counter[Category | None] = Counter(category(m) for _, m in active)
        on_loan = set(
            (
                await db.execute(
                    select(Copy.record_id)
                    .join(Loan, Loan.copy_id == Copy.id)
                    .where(Loan.patron_id == viewer.patron_id, Loan.returned_at.is_(None))
                )
            ).scalars()
        )
        placed_entries: list[int] = []
        for raw_id in entry_ids:
            entry = entries.get(raw_id) if raw_id is not None else None
            if entry is None:
                nf = RuleViolation(ErrorCode.NOT_FOUND, field="basketEntryIds")
                result.outcomes.append(HoldOutcome(entry_id=raw_id or 0, record=None, errors=[nf]))
                continue
            record = records[entry.record_id]
            outcome = HoldOutcome(entry_id=entry.id, record=record)
            result.outcomes.append(outcome)
            request = HoldRequest(
                material=record.material_type,
                copies=tuple(copies[record.id]),
                already_held=record.id in held,
                on_loan_to_patron=record.id in on_loan,
            )
            cat = category(record.material_type)
            try:
                check_hold(request, per_category[cat], ctx.policy.circulation)
            except RuleViolation as no:
                outcome.errors.append(no)
                continue
            # Later titles of the same batch see this one counted (limit) and held (twice).
            per_category[cat] += 1
            held.add(record.id)
            if confirm:
                hold = Hold(
                    patron_id=viewer.patron_id,
                    record_id=record.id,
                    pickup_library_id=pickup.id,
                    state=HoldState.WAITING,
                    placed_at=now,
                )
                db.add(hold)
                outcome.hold = hold
                placed_entries.append(entry.id)
        if placed_entries:
            await db.execute(delete(BasketEntry).where(BasketEntry.id.in_(placed_entries)))
        await db.flush()
    return result


async def active_holds(ctx: Context, viewer: PatronViewer) -> Sequence[Hold]:
    """The patron's holds still in play, oldest first (HOLD-10)."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(Hold)
            .where(Hold.patron_id == viewer.patron_id, Hold.state.in_(ACTIVE_HOLD_STATES))
            .order_by(Hold.placed_at, Hold.id)
        )
        return rows.scalars().all()


async def _modify(ctx: Context, viewer: PatronViewer, hold_id: int, **values: object) -> Hold:
    """Change the patron's own WAITING hold under a lock; another patron's hold is
    ``NOT_FOUND`` (no leak), a hold past WAITING ``HOLD_NOT_MODIFIABLE`` (HOLD-6)."""
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Hold, hold_id)
        hold = await db.get(Hold, hold_id, populate_existing=True)
        if hold is None or hold.patron_id != viewer.patron_id:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="holdId")
        check_modifiable(hold.state)
        for name, value in values.items():
            setattr(hold, name, value)
    return hold


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
    library = await _pickup(ctx, library_id, patron)
    return await _modify(ctx, viewer, hold_id, pickup_library_id=library.id)


async def pause(ctx: Context, viewer: PatronViewer, hold_id: int, until: date | None) -> Hold:
    """Pause a WAITING hold until ``until`` (it keeps its place and is skipped meanwhile),
    or resume it with ``None``."""
    today = ctx.today()
    if until is not None and not today < until <= today + timedelta(days=MAX_PAUSE_DAYS):
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="until", max_days=MAX_PAUSE_DAYS)
    return await _modify(ctx, viewer, hold_id, paused_until=until)
