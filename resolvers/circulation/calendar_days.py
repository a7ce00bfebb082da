"""Staff keeping a library's calendar (STAFF-1): a day at a time, or the weekly closing
days. SVC-3: a day newly closed — one day, or every such weekday — takes the due dates and
pickup deadlines that fall on it to the library's next opening day, and the patrons affected
are told by the usual notices (a due-date reminder, a hold-ready mail with the new
deadline)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarDay, Copy, Hold, Library, Loan, Patron, Record
from policies.circulation import next_opening_day
from policies.enums import ContactMethod, HoldState
from policies.errors import ErrorCode, RuleViolation
from resolvers.circulation.calendar import check_library, opening_test
from resolvers.circulation.notices import hold_ready_payload, loan_line
from resolvers.mail.outbox import queue_mail
from resolvers.shared.context import Context


async def set_day(
    ctx: Context, library_id: int, day: date, open_: bool | None, note: str | None
) -> Library:
    """Mark ``day`` closed or open at a library, or (``open_`` is None) drop the exception.
    Closing a day moves the due dates and pickup deadlines on it (SVC-3)."""
    if note is not None and (len(note) > 100 or not note.isprintable()):
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="note", max_length=100)
    async with ctx.services.sessions() as db, db.begin():
        library = check_library(await db.get(Library, library_id))
        await db.execute(
            delete(CalendarDay).where(CalendarDay.library_id == library_id, CalendarDay.day == day)
        )
        if open_ is not None:
            db.add(CalendarDay(library_id=library_id, day=day, is_open=open_, note=note))
        if open_ is False:
            await move_off_closed_day(db, library, day, ctx.today(), ctx.services.clock.now())
    if open_ is False:
        await ctx.services.nudge()  # the notices go out now
    return library


async def set_closed_weekdays(ctx: Context, library_id: int, weekdays: Sequence[int]) -> Library:
    """Set a library's weekly closing days (ISO weekdays, 1 = Monday); what falls on a day
    that is now closed moves to the next opening day (SVC-3)."""
    if any(not 1 <= w <= 7 for w in weekdays):
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="weekdays")
    today, now = ctx.today(), ctx.services.clock.now()
    moved = 0
    async with ctx.services.sessions() as db, db.begin():
        library = check_library(await db.get(Library, library_id))
        library.closed_weekdays = ",".join(str(w) for w in sorted(set(weekdays)))
        await db.flush()
        test = await opening_test(db, library, today)
        for day in await _days_owed(db, library, today):
            if not test(day):
                moved += await move_off_closed_day(db, library, day, today, now)
    if moved:
        await ctx.services.nudge()  # the notices go out now
    return library


async def _days_owed(db: AsyncSession, library: Library, today: date) -> list[date]:
    """The days from today on when something at ``library`` falls due: a loan's due date,
    a ready hold's pickup deadline."""
    dues = select(Loan.due_on).where(
        Loan.library_id == library.id, Loan.returned_at.is_(None), Loan.due_on >= today
    )
    deadlines = select(Hold.pickup_deadline).where(
        Hold.pickup_library_id == library.id,
        Hold.state == HoldState.READY,
        Hold.pickup_deadline >= today,
    )
    days = set((await db.execute(dues)).scalars()) | set((await db.execute(deadlines)).scalars())
    return sorted(d for d in days if d is not None)


async def move_off_closed_day(
    db: AsyncSession, library: Library, day: date, today: date, now: datetime
) -> int:
    """Move what falls on ``day`` (now closed) at ``library``; returns how many moved."""
    if day < today:
        return 0  # the past is not rewritten: an overdue stays overdue
    await db.flush()  # the closed day is part of the calendar read below
    test = await opening_test(db, library, today)
    new_day = next_opening_day(day + timedelta(days=1), test)
    return await _move_loans(db, library, day, new_day, now) + await _move_holds(
        db, library, day, new_day, now
    )


async def _move_loans(
    db: AsyncSession, library: Library, day: date, new_day: date, now: datetime
) -> int:
    rows = (
        await db.execute(
            select(Loan, Record)
            .join(Copy, Copy.id == Loan.copy_id)
            .join(Record, Record.id == Copy.record_id)
            .where(
                Loan.library_id == library.id,
                Loan.returned_at.is_(None),
                Loan.due_on == day,
            )
        )
    ).all()
    per_patron: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for loan, record in rows:
        loan.due_on = new_day
        if loan.patron_id is not None:
            per_patron[loan.patron_id].append(loan_line(loan, record))
    for patron_id, lines in per_patron.items():
        await queue_mail(
            db,
            kind="due_reminder",
            dedupe_key=f"due-moved:{patron_id}:{library.id}:{day.isoformat()}",
            patron_id=patron_id,
            payload={"loans": lines},
            not_before=now,
            now=now,
        )
    return len(rows)


async def _move_holds(
    db: AsyncSession, library: Library, day: date, new_day: date, now: datetime
) -> int:
    rows = (
        await db.execute(
            select(Hold, Record, Patron)
            .join(Record, Record.id == Hold.record_id)
            .join(Patron, Patron.id == Hold.patron_id)
            .where(
                Hold.pickup_library_id == library.id,
                Hold.state == HoldState.READY,
                Hold.pickup_deadline == day,
            )
        )
    ).all()
    for hold, record, patron in rows:
        hold.pickup_deadline = new_day
        if patron.contact_method is ContactMethod.EMAIL:
            await queue_mail(
                db,
                kind="hold_ready",
                dedupe_key=f"hold-ready:{hold.id}:{new_day.isoformat()}",
                patron_id=patron.id,
                payload=hold_ready_payload(hold, record, library, new_day),
                not_before=now,
                now=now,
            )
    return len(rows)
