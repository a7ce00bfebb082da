"""Scheduled scans that owe mails: due-date reminders (MAIL-2) and overdue notices (MAIL-3)
(weekly new arrivals, MAIL-4, are in :mod:`resolvers.circulation.new_arrivals`), and the
hold-ready mail's words. Each writes outbox rows and its own bookkeeping in one
transaction, so a scan run twice owes nothing twice and a missed day is caught up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Copy, Hold, Library, Loan, Patron, Record
from policies.config import PolicyConfig
from policies.enums import HoldState
from resolvers.circulation.loans import refusal_today
from resolvers.mail.outbox import queue_mail


def loan_line(loan: Loan, record: Record) -> dict[str, Any]:
    """One loan as a notice names it: title, due date and the loan it is about."""
    return {"title": record.title, "due_on": loan.due_on.isoformat(), "loan_id": loan.id}


async def _held_by_others(db: AsyncSession, rows: Sequence[Any]) -> set[tuple[int, int]]:
    """(record, patron) pairs where someone else waits for the record (LOAN-3)."""
    record_ids = {record.id for _, record, _, _, _ in rows}
    waiting = await db.execute(
        select(Hold.record_id, Hold.patron_id).where(
            Hold.record_id.in_(record_ids), Hold.state == HoldState.WAITING
        )
    )
    pairs = waiting.all()
    return {
        (record_id, patron.id)
        for _, record, _, _, patron in rows
        for record_id, holder in pairs
        if record_id == record.id and holder != patron.id
    }


async def queue_due_reminders(
    sessions: async_sessionmaker[AsyncSession], policy: PolicyConfig, now: datetime, today: date
) -> int:
    """One reminder per opted-in patron listing every loan due within their chosen days
    that has not been reminded for its current due date (MAIL-2, PREF-5); each line says
    whether that loan can still be renewed, so the mail never suggests an impossible 延長."""
    horizon = today + timedelta(days=31)
    async with sessions() as db, db.begin():
        rows = (
            await db.execute(
                select(Loan, Record, Copy, Library, Patron)
                .join(Copy, Copy.id == Loan.copy_id)
                .join(Record, Record.id == Copy.record_id)
                .join(Library, Library.id == Loan.library_id)
                .join(Patron, Patron.id == Loan.patron_id)
                .where(
                    Loan.returned_at.is_(None),
                    Patron.due_reminder.is_(True),
                    Loan.due_on >= today,
                    Loan.due_on <= horizon,
                    or_(
                        Loan.reminded_for_due_on.is_(None), Loan.reminded_for_due_on != Loan.due_on
                    ),
                )
                .order_by(Patron.id, Loan.due_on, Loan.id)
            )
        ).all()
        held = await _held_by_others(db, rows) if rows else set()
        per_patron: dict[int, list[tuple[Loan, dict[str, Any]]]] = defaultdict(list)
        for loan, record, copy, library, patron in rows:
            days = patron.due_reminder_days
            days = policy.circulation.due_reminder_days if days is None else days
            if (loan.due_on - today).days <= days:
                held_by_others = (record.id, patron.id) in held
                can = (
                    refusal_today(
                        loan, copy, record, library, held_by_others, today, policy.circulation
                    )
                    is None
                )
                per_patron[patron.id].append((loan, {**loan_line(loan, record), "renewable": can}))
        for patron_id, items in per_patron.items():
            await queue_mail(
                db,
                kind="due_reminder",
                dedupe_key=f"due:{patron_id}:{today.isoformat()}",
                patron_id=patron_id,
                payload={"loans": [line for _, line in items]},
                not_before=now,
                now=now,
            )
            for loan, _ in items:
                loan.reminded_for_due_on = loan.due_on
    return len(per_patron)


async def queue_overdue_notices(
    sessions: async_sessionmaker[AsyncSession], policy: PolicyConfig, now: datetime, today: date
) -> int:
    """One notice per patron with loans overdue for the set period, repeated at the set
    interval for each loan (MAIL-3)."""
    first_after = timedelta(days=policy.circulation.overdue_notice_after_days)
    every = timedelta(days=policy.circulation.overdue_notice_every_days)
    async with sessions() as db, db.begin():
        rows = (
            await db.execute(
                select(Loan, Record)
                .join(Copy, Copy.id == Loan.copy_id)
                .join(Record, Record.id == Copy.record_id)
                .where(
                    Loan.returned_at.is_(None),
                    Loan.patron_id.is_not(None),
                    Loan.due_on <= today - first_after,
                    or_(
                        Loan.last_overdue_notice_on.is_(None),
                        Loan.last_overdue_notice_on <= today - every,
                    ),
                )
                .order_by(Loan.patron_id, Loan.due_on, Loan.id)
            )
        ).all()
        per_patron: dict[int, list[tuple[Loan, Record]]] = defaultdict(list)
        for loan, record in rows:
            assert loan.patron_id is not None
            per_patron[loan.patron_id].append((loan, record))
        for patron_id, items in per_patron.items():
            lines = [
                {**loan_line(loan, rec), "days_overdue": (today - loan.due_on).days}
                for loan, rec in items
            ]
            await queue_mail(
                db,
                kind="overdue",
                dedupe_key=f"overdue:{patron_id}:{today.isoformat()}",
                patron_id=patron_id,
                payload={"loans": lines},
                not_before=now,
                now=now,
            )
            for loan, _ in items:
                loan.overdue_notices += 1
                loan.last_overdue_notice_on = today
    return len(per_patron)


async def stale_hold_mails(db: AsyncSession, mail_ids: dict[int, int]) -> set[int]:
    """Of hold-ready mails (mail id → hold id), those whose hold is no longer READY: the
    patron collected it or it expired before the mail's day came."""
    if not mail_ids:
        return set()
    ready = set(
        (
            await db.execute(
                select(Hold.id).where(
                    Hold.id.in_(set(mail_ids.values())), Hold.state == HoldState.READY
                )
            )
        ).scalars()
    )
    return {mail for mail, hold in mail_ids.items() if hold not in ready}


def hold_ready_payload(
    hold: Hold, record: Record, pickup: Library, deadline: date, *, kept: bool = False
) -> dict[str, Any]:
    """What a hold-ready mail says (MAIL-1), kept as it was when the copy was secured.
    ``kept``: a later volume that waits for an earlier one (HOLD-9), so the mail must not
    promise a cancellation on the deadline."""
    return {
        "kept_for_earlier_volume": kept,
        "hold_id": hold.id,
        "title": record.title,
        "volume": record.volume,
        "pickup_library": pickup.name,
        "pickup_library_id": pickup.id,
        "deadline": deadline.isoformat(),
    }
