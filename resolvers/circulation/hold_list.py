"""The patron's hold list (HOLD-10): each hold still in play with its title and its place
in the title's waiting line (HOLD-7), read in one statement for the whole list."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from models import Hold, Library, Record
from models.driver_reads import KEYS, DriverSelect
from policies.circulation import ACTIVE_HOLD_STATES
from policies.enums import HoldState
from resolvers.shared.context import Context, PatronViewer


def _waiting_line() -> tuple[Any, Any]:
    """Scalar subqueries on a hold's title: how many wait for it (HOLD-7's queue length),
    and how many of them came no later than the hold (its place, when it waits too; the
    line is first come, first served: by ``placed_at``, then id)."""
    other = aliased(Hold)
    waiting = and_(other.record_id == Hold.record_id, other.state == HoldState.WAITING)
    no_later = or_(
        other.placed_at < Hold.placed_at,
        and_(other.placed_at == Hold.placed_at, other.id <= Hold.id),
    )
    length = select(func.count()).where(waiting).correlate(Hold).scalar_subquery()
    place = select(func.count()).where(waiting, no_later).correlate(Hold).scalar_subquery()
    return place, length


# The patron's holds in play with their titles and waiting lines, in one statement.
ACTIVE_BY_PATRON = DriverSelect(
    select(*Hold.__table__.c, *Record.__table__.c, *_waiting_line())
    .join(Record, Record.id == Hold.record_id)
    .where(Hold.patron_id.in_(KEYS), Hold.state.in_(sorted(ACTIVE_HOLD_STATES)))
    .order_by(Hold.placed_at, Hold.id),
    (Hold, Record),
)


@dataclass(frozen=True, slots=True)
class HoldDetails:
    """What the hold list shows of a hold beyond its row, read for the whole list at once
    (:func:`active_holds`): its title and its waiting line (HOLD-7)."""

    record: Record
    position: int | None  # its place in the line, 1 = next; None unless it waits
    length: int  # how many wait for the title
    pickup: Library | None  # its pickup library, from the libraries read alongside


async def active_holds(ctx: Context, viewer: PatronViewer) -> list[tuple[Hold, HoldDetails]]:
    """The patron's holds still in play, oldest first (HOLD-10), each with its title and
    waiting line: one statement for the whole list, the libraries read alongside."""
    rows: list[tuple[Hold, Record, int, int]]
    by_id: dict[int, Library]
    rows, by_id = await asyncio.gather(
        ctx.reads.rows(ACTIVE_BY_PATRON, [viewer.patron_id]), ctx.loaders.libraries_by_id()
    )
    return [
        (
            hold,
            HoldDetails(
                record,
                place if hold.state is HoldState.WAITING else None,
                length,
                by_id.get(hold.pickup_library_id),
            ),
        )
        for hold, record, place, length in rows
    ]
