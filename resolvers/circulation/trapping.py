"""Giving a copy to the next hold in line: the step shared by check-in, the pull list,
receiving transit and hold expiry (HOLD-5..9, LOAN-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Copy, Hold, Library, Patron, Record
from policies.circulation import (
    VolumeHold,
    kept_for_earlier_volume,
    pickup_deadline,
    volume_rank,
)
from policies.config import PolicyConfig
from policies.enums import ContactMethod, CopyStatus, HoldState
from resolvers.circulation.calendar import next_opening_morning, opening_test
from resolvers.circulation.notices import hold_ready_payload
from resolvers.mail.outbox import queue_mail


@dataclass(frozen=True, slots=True)
class Clockwork:
    """What a trapping step needs besides the database: the policy and the moment."""

    policy: PolicyConfig
    now: datetime
    today: date


def _waiting_in_line(record_id: int, today: date) -> Select[Hold]:
    return (
        select(Hold)
        .where(
            Hold.record_id == record_id,
            Hold.state == HoldState.WAITING,
            Hold.copy_id.is_(None),
            or_(Hold.paused_until.is_(None), Hold.paused_until <= today),
        )
        .order_by(Hold.placed_at, Hold.id)
    )


async def other_volumes(db: AsyncSession, hold: Hold, series: str) -> list[VolumeHold]:
    """The patron's other holds on volumes of ``series``, for HOLD-9."""
    rows = await db.execute(
        select(Hold.state, Record.volume)
        .join(Record, Record.id == Hold.record_id)
        .where(Hold.patron_id == hold.patron_id, Hold.id != hold.id, Record.series == series)
    )
    return [
        VolumeHold(series=series, rank=rank, state=state)
        for state, volume in rows.all()
        if (rank := volume_rank(volume)) is not None
    ]


async def _kept_for_earlier(db: AsyncSession, hold: Hold, record: Record) -> bool:
    """Whether this ready volume waits for an earlier one, past its deadline (HOLD-9)."""
    if record.series is None:
        return False
    others = await other_volumes(db, hold, record.series)
    return kept_for_earlier_volume(record.series, record.volume, record.is_comic, others)


async def make_ready(db: AsyncSession, hold: Hold, copy: Copy, at: Clockwork) -> None:
    """The copy is at the pickup library: the hold is READY until its deadline (HOLD-8),
    and a hold-ready mail is owed on the next opening day (MAIL-1)."""
    pickup = await db.get(Library, hold.pickup_library_id)
    assert pickup is not None
    test = await opening_test(db, pickup, at.today)
    deadline = pickup_deadline(at.today, test, at.policy.circulation)
    hold.state = HoldState.READY
    hold.copy_id = copy.id
    hold.ready_at = at.now
    hold.pickup_deadline = deadline
    copy.status = CopyStatus.ON_HOLD_SHELF
    copy.current_library_id = pickup.id
    await _align_earlier_volumes(db, hold, deadline)
    patron = await db.get(Patron, hold.patron_id)
    record = await db.get(Record, hold.record_id)
    if patron is not None and record is not None and patron.contact_method is ContactMethod.EMAIL:
        await queue_mail(
            db,
            kind="hold_ready",
            # Owed once per pickup library: a hold moved by staff (STAFF-2) is told anew.
            dedupe_key=f"hold-ready:{hold.id}:{pickup.id}",
            patron_id=patron.id,
            payload=hold_ready_payload(
                hold, record, pickup, deadline, kept=await _kept_for_earlier(db, hold, record)
            ),
            not_before=next_opening_morning(at.today, test, at.policy.service.timezone),
            now=at.now,
        )


async def _align_earlier_volumes(db: AsyncSession, hold: Hold, deadline: date) -> None:
    """HOLD-9: later volumes kept waiting for this one now share its (later) deadline."""
    record = await db.get(Record, hold.record_id)
    rank = volume_rank(record.volume) if record else None
    if record is None or record.series is None or rank is None or record.is_comic:
        return
    rows = await db.execute(
        select(Hold, Record)
        .join(Record, Record.id == Hold.record_id)
        .where(
            Hold.patron_id == hold.patron_id,
            Hold.state == HoldState.READY,
            Hold.id != hold.id,
            Record.series == record.series,
        )
    )
    for other, other_record in rows.all():
        other_rank = volume_rank(other_record.volume)
        if (
            other_rank is not None
            and other_rank > rank
            and (other.pickup_deadline is None or other.pickup_deadline < deadline)
        ):
            other.pickup_deadline = deadline


async def trap(db: AsyncSession, copy: Copy, at_library_id: int, at: Clockwork) -> Hold | None:
    """Give ``copy``, now at ``at_library_id``, to the oldest waiting hold on its title that
    is not paused: READY if that is the pickup library, else IN_TRANSIT to it (HOLD-6, HOLD-7).

    Each candidate is claimed with a compare-and-set, so two desks trapping copies for the
    same hold at once give it one copy; the loser moves on to the next hold in line.
    """
    candidates = (await db.execute(_waiting_in_line(copy.record_id, at.today))).scalars().all()
    for hold in candidates:
        # The claim is the copy: a waiting hold with no copy takes this one. Its state is
        # then set by the one function for each (make_ready, send_in_transit).
        claimed = await db.execute(
            update(Hold)
            .where(Hold.id == hold.id, Hold.state == HoldState.WAITING, Hold.copy_id.is_(None))
            .values(copy_id=copy.id)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        await db.refresh(hold)
        if hold.pickup_library_id == at_library_id:
            await make_ready(db, hold, copy, at)
        else:
            send_in_transit(hold, copy, at_library_id)
        return hold
    return None


def send_in_transit(hold: Hold, copy: Copy, at_library_id: int) -> None:
    """The copy travels from ``at_library_id`` to the hold's pickup library (HOLD-6)."""
    hold.state = HoldState.IN_TRANSIT
    hold.copy_id = copy.id
    copy.status = CopyStatus.IN_TRANSIT
    copy.current_library_id = at_library_id


def shelve(copy: Copy, at_library_id: int) -> None:
    """No hold wants the copy: back on the shelf at home, or in transit home (LOAN-5)."""
    copy.current_library_id = at_library_id
    copy.status = (
        CopyStatus.AVAILABLE if copy.library_id == at_library_id else CopyStatus.IN_TRANSIT
    )
