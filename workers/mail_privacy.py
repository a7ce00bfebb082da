"""Mail and reading privacy (issue [R2 4/9]).

A notice is re-checked just before it goes: a hold-ready mail for a hold no longer ready,
a reminder or overdue notice for loans since returned, name titles the patron no longer
has, so those lines (or the whole mail) are dropped. Once sent, a mail keeps its text for
staff (``body``) and forgets its payload (the loan and hold ids in it would re-link
anonymised loans). After the retention period (``HONDANA_MAIL_RETENTION_DAYS``, 30 by
default, long enough for bounces) a sent or failed mail keeps only its kind, the day of
its times, its state and the recipients' domains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import EbookHold, Loan, OutboxMessage, UsedCardCode
from policies.enums import EbookHoldState, OutboxState
from resolvers.accounts.card import stale_before
from resolvers.circulation.notices import stale_hold_mails
from resolvers.mail.mail import Claimed
from resolvers.shared.privacy import day_of

LOAN_NOTICES = frozenset({"due_reminder", "overdue"})
SCRUB_BATCH = 500


@dataclass(slots=True)
class Recheck:
    """What the re-check found: mails to skip (with why) and payloads to send instead."""

    stale: dict[int, str] = field(default_factory=dict)
    payloads: dict[int, dict[str, Any]] = field(default_factory=dict)


def _hold_ids(batch: Sequence[Claimed], kind: str) -> dict[int, int]:
    return {
        m.id: int(str(m.payload["hold_id"]))
        for m in batch
        if m.kind == kind and m.payload.get("hold_id") is not None
    }


async def _returned_loans(db: AsyncSession, batch: Sequence[Claimed]) -> set[int]:
    """The loans the batch's notices name that have been returned since."""
    ids = {
        int(line["loan_id"])
        for m in batch
        if m.kind in LOAN_NOTICES
        for line in m.payload.get("loans", [])  # type: ignore[attr-defined]
        if isinstance(line, dict) and line.get("loan_id") is not None
    }
    if not ids:
        return set()
    rows = await db.execute(select(Loan.id).where(Loan.id.in_(ids), Loan.returned_at.is_not(None)))
    return set(rows.scalars())


async def recheck(db: AsyncSession, batch: Sequence[Claimed]) -> Recheck:
    """Hold-ready mails whose hold is no longer ready are stale; loan notices lose the
    lines of loans since returned, and are stale when none is left."""
    found = Recheck()
    for mail_id in await stale_hold_mails(db, _hold_ids(batch, "hold_ready")):
        found.stale[mail_id] = "hold no longer ready"
    ebook = _hold_ids(batch, "ebook_hold_ready")
    if ebook:
        ready = set(
            (
                await db.execute(
                    select(EbookHold.id).where(
                        EbookHold.id.in_(set(ebook.values())),
                        EbookHold.state == EbookHoldState.READY,
                    )
                )
            ).scalars()
        )
        for mail_id, hold_id in ebook.items():
            if hold_id not in ready:
                found.stale[mail_id] = "e-book hold no longer ready"
    returned = await _returned_loans(db, batch)
    for mail in batch:
        if mail.kind not in LOAN_NOTICES:
            continue
        lines: list[dict[str, Any]] = list(mail.payload.get("loans", []))  # type: ignore[call-overload]
        kept = [line for line in lines if line.get("loan_id") not in returned]
        if not kept:
            found.stale[mail.id] = "loans returned"
        elif len(kept) < len(lines):
            found.payloads[mail.id] = {**mail.payload, "loans": kept}
    return found


def domains(recipients: Sequence[str] | None) -> list[str]:
    """The recipients' domains, each once: what a scrubbed mail keeps of its addresses."""
    return sorted({a.rpartition("@")[2].lower() for a in recipients or () if "@" in a})


def _scrub(row: OutboxMessage, timezone: str) -> None:
    row.patron_id = None
    row.payload = {}
    row.body = None
    row.dedupe_key = f"scrubbed:{row.id}"  # the key named the patron or the hold
    row.message_id = None  # a hash of the key
    row.recipients = domains(row.recipients)
    row.last_error = None  # a server's reply quotes the address
    row.claimed_by = None
    row.lease_until = None
    row.scrubbed = True
    for name in ("created_at", "not_before", "next_attempt_at", "sent_at"):
        value = getattr(row, name)
        if value is not None:
            setattr(row, name, day_of(value, timezone))


async def scrub_expired_mail(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    retention: timedelta,
    timezone: str,
) -> int:
    """Scrub every sent or failed mail older than ``retention`` (by when it was sent, or
    queued if it never was), a batch per transaction; idempotent. Card-code uses past any
    code's life go too. Returns how many mails were scrubbed."""
    before = now - retention
    done = 0
    while True:
        async with sessions() as db, db.begin():
            rows = (
                (
                    await db.execute(
                        select(OutboxMessage)
                        .where(
                            OutboxMessage.state.in_((OutboxState.SENT, OutboxState.FAILED)),
                            OutboxMessage.scrubbed.is_(False),
                            or_(
                                OutboxMessage.sent_at < before,
                                OutboxMessage.sent_at.is_(None)
                                & (OutboxMessage.created_at < before),
                            ),
                        )
                        .order_by(OutboxMessage.id)
                        .limit(SCRUB_BATCH)
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                _scrub(row, timezone)
            if len(rows) < SCRUB_BATCH:
                await db.execute(
                    delete(UsedCardCode).where(UsedCardCode.used_at < stale_before(now))
                )
        done += len(rows)
        if len(rows) < SCRUB_BATCH:
            return done
