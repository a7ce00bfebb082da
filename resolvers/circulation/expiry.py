"""Ready holds past their pickup deadline expire and the copy goes to the next hold
(HOLD-8), except later volumes kept for an earlier one (HOLD-9). Scheduled by the workers;
idempotent, and a missed day is caught up by the next run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Copy, Hold, Patron, Record
from models.db import lock_row
from policies.circulation import kept_for_earlier_volume
from policies.config import PolicyConfig
from policies.enums import HoldState
from resolvers.circulation.trapping import Clockwork, other_volumes, shelve, trap
from resolvers.shared import privacy


@dataclass(slots=True)
class ExpiryReport:
    """What one sweep did."""

    expired: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    passed_on: list[int] = field(default_factory=list)


async def expire_ready_holds(
    sessions: async_sessionmaker[AsyncSession], policy: PolicyConfig, now: datetime, today: date
) -> ExpiryReport:
    """Expire every READY hold whose deadline has passed; one transaction per hold."""
    report = ExpiryReport()
    async with sessions() as db:
        due = (
            (
                await db.execute(
                    select(Hold.id).where(
                        Hold.state == HoldState.READY, Hold.pickup_deadline < today
                    )
                )
            )
            .scalars()
            .all()
        )
    at = Clockwork(policy=policy, now=now, today=today)
    for hold_id in due:
        async with sessions() as db, db.begin():
            # The patron before the hold, the order every other path takes them in.
            patron_id = await db.scalar(select(Hold.patron_id).where(Hold.id == hold_id))
            if patron_id is not None:
                await lock_row(db, Patron, patron_id)
            await lock_row(db, Hold, hold_id)
            hold = await db.get(Hold, hold_id, populate_existing=True)
            if hold is None or hold.state is not HoldState.READY or hold.copy_id is None:
                continue  # someone else got there first
            record = await db.get(Record, hold.record_id)
            assert record is not None
            if record.series and kept_for_earlier_volume(
                record.series,
                record.volume,
                record.is_comic,
                await other_volumes(db, hold, record.series),
            ):
                report.kept.append(hold.id)
                continue
            hold.state = HoldState.EXPIRED
            hold.closed_at = now
            report.expired.append(hold.id)
            copy = await db.get(Copy, hold.copy_id)
            assert copy is not None
            at_library = copy.current_library_id or hold.pickup_library_id
            nxt = await trap(db, copy, at_library, at)
            if nxt is None:
                shelve(copy, at_library)
            else:
                report.passed_on.append(nxt.id)
            await privacy.settle(db, hold.patron_id, policy.service.timezone)
    return report
