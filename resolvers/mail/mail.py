"""The mail outbox seen from the database: claiming due rows for a dispatcher, recording
what happened, and the staff's mail log (MAIL-8, STAFF-1).

A claim is a lease: rows move to SENDING with ``claimed_by`` and ``lease_until``; a row
whose lease has run out (its worker died) is claimable again. On PostgreSQL the claim
uses ``FOR UPDATE SKIP LOCKED`` so dispatchers never wait on each other; SQLite runs one
writer at a time, so its conditional UPDATE is already exclusive.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from models import OutboxMessage, Patron
from models.driver_writes import DriverWrite
from policies.enums import OutboxState

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed mail with the patron's current addresses (Email1 and Email2)."""

    id: int
    kind: str
    dedupe_key: str
    payload: dict[str, object]
    attempts: int
    patron_id: int | None
    patron_name: str | None
    addresses: tuple[str, ...]


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 1, 2, 4 ... minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        (OutboxMessage.state == OutboxState.PENDING) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.state == OutboxState.SENDING) & (OutboxMessage.lease_until < now),
    )


async def claim(
    sessions: async_sessionmaker[AsyncSession], worker: str, now: datetime, limit: int
) -> list[Claimed]:
    """Take up to ``limit`` due mails for ``worker``, oldest first."""
    async with sessions() as db, db.begin():
        pick = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
        if db.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        ids = list((await db.execute(pick)).scalars())
        if not ids:
            return []
        # The state test again in the UPDATE keeps the claim exclusive on SQLite too.
        claimed = await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _due(now))
            .values(state=OutboxState.SENDING, claimed_by=worker, lease_until=now + LEASE)
            .returning(OutboxMessage.id)
        )
        mine = set(claimed.scalars())
        rows = (
            await db.execute(
                select(OutboxMessage, Patron)
                .outerjoin(Patron, Patron.id == OutboxMessage.patron_id)
                .where(OutboxMessage.id.in_(mine))
                .order_by(OutboxMessage.id)
            )
        ).all()
    return [
        Claimed(
            id=row.id,
            kind=row.kind,
            dedupe_key=row.dedupe_key,
            payload=dict(row.payload),
            attempts=row.attempts,
            patron_id=row.patron_id,
            patron_name=patron.name if patron is not None else None,
            addresses=_addresses(patron, row.payload),
        )
        for row, patron in rows
    ]


def _addresses(patron: Patron | None, payload: dict[str, object]) -> tuple[str, ...]:
    """Email1 and Email2 as they are now, skipping addresses known to fail; a mail to
    someone without an account (an applicant) carries its address in the payload."""
    if patron is None:
        to = payload.get("to")
        return (to,) if isinstance(to, str) and to else ()
    found = []
    for address, failure in (
        (patron.email1, patron.email1_failure),
        (patron.email2, patron.email2_failure),
    ):
        if address and failure is None and address not in found:
            found.append(address)
    return tuple(found)


async def release(
    sessions: async_sessionmaker[AsyncSession], mail_ids: Sequence[int], worker: str
) -> None:
    """Give claimed mails back untried (the server is unreachable): no attempt is counted."""
    if not mail_ids:
        return
    async with sessions() as db, db.begin():
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(mail_ids)), OutboxMessage.claimed_by == worker)
            .values(state=OutboxState.PENDING, claimed_by=None, lease_until=None)
        )


async def mark_sent(
    conn: AsyncConnection,
    mail_id: int,
    worker: str,
    now: datetime,
    *,
    message_id: str,
    recipients: Sequence[str],
    body: str | None = None,
) -> None:
    """Delivered: one conditional UPDATE in its own commit, right after the server's 250
    (the window in which a dying worker could leave a delivered mail unmarked is this
    statement's round trip). The payload goes (its loan and hold ids would re-link
    anonymised loans, and a temporary password is a secret); ``body``, the text as sent
    with secrets masked, stays for staff until the retention scrub.

    ``conn`` is the dispatcher's connection for the whole batch, in autocommit: the UPDATE
    is committed when it returns, in one round trip (no BEGIN, no COMMIT), and the hottest
    write skips the ORM session and the pool's checkout and reset per mail."""
    if conn.sync_connection is None or not _autocommit(conn.sync_connection):
        raise RuntimeError("mark_sent needs a connection in autocommit")
    await _sent_update().run_on(
        conn,
        p_id=mail_id,
        p_worker=worker,
        p_sent_at=now,
        p_message_id=message_id,
        p_recipients=list(recipients),
        p_body=body,
    )


def _autocommit(conn: Connection) -> bool:
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


@functools.cache
def _sent_update() -> DriverWrite:
    """``mark_sent``'s UPDATE, built once with its values bound per mail (building the
    statement anew for every mail took as long as running it), and sent by the driver
    itself (``models/driver_writes.py``), without SQLAlchemy's execution context per mail."""
    table = cast(Table, OutboxMessage.__table__)
    c = table.c
    return DriverWrite(
        update(table)
        .where(c.id == bindparam("p_id"), c.claimed_by == bindparam("p_worker"))
        .values(
            state=OutboxState.SENT,
            sent_at=bindparam("p_sent_at", type_=c.sent_at.type),
            attempts=c.attempts + 1,
            message_id=bindparam("p_message_id", type_=c.message_id.type),
            recipients=bindparam("p_recipients", type_=c.recipients.type),
            lease_until=None,
            last_error=None,
            payload={},
            body=bindparam("p_body", type_=c.body.type),
        )
    )


async def mark_retry(
    sessions: async_sessionmaker[AsyncSession], mail_id: int, worker: str, now: datetime, error: str
) -> None:
    """A temporary failure (4xx, connection refused): try again later, up to a limit."""
    async with sessions() as db, db.begin():
        row = await db.get(OutboxMessage, mail_id)
        if row is None or row.claimed_by != worker:
            return
        row.attempts += 1
        row.last_error = error[:1000]
        row.lease_until = None
        if row.attempts >= MAX_ATTEMPTS:
            row.state = OutboxState.FAILED
        else:
            row.state = OutboxState.PENDING
            row.next_attempt_at = now + backoff(row.attempts)


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession],
    mail_id: int,
    worker: str,
    now: datetime,
    error: str,
    refused: dict[str, str] | None = None,
) -> None:
    """A permanent failure: the mail is not retried, and each refused address of the patron
    is marked failing so the patron and staff can see it (MAIL-8, PREF-2)."""
    async with sessions() as db, db.begin():
        row = await db.get(OutboxMessage, mail_id)
        if row is None or row.claimed_by != worker:
            return
        row.state = OutboxState.FAILED
        row.attempts += 1
        row.last_error = error[:1000]
        row.lease_until = None
        await _mark_addresses(db, row.patron_id, refused or {})


async def _mark_addresses(db: AsyncSession, patron_id: int | None, refused: dict[str, str]) -> None:
    if patron_id is None or not refused:
        return
    patron = await db.get(Patron, patron_id)
    if patron is None:
        return
    if patron.email1 in refused:
        patron.email1_failure = refused[patron.email1][:300]
    if patron.email2 in refused:
        patron.email2_failure = refused[patron.email2][:300]


async def mark_partly_refused(
    sessions: async_sessionmaker[AsyncSession], patron_id: int | None, refused: dict[str, str]
) -> None:
    """Some addresses took the mail and some refused it for good: mark the refused ones."""
    async with sessions() as db, db.begin():
        await _mark_addresses(db, patron_id, refused)


async def mark_skipped(
    sessions: async_sessionmaker[AsyncSession], mail_id: int, worker: str, reason: str
) -> None:
    """Nothing to send any more (the hold was collected, the loans returned, no address is
    left): the payload, never to be read, goes at once."""
    async with sessions() as db, db.begin():
        row = await db.get(OutboxMessage, mail_id)
        if row is None or row.claimed_by != worker:
            return
        row.payload = {}
        row.state = OutboxState.SKIPPED
        row.last_error = reason[:1000]
        row.lease_until = None


async def mail_log(
    sessions: async_sessionmaker[AsyncSession], patron_id: int, limit: int = 100
) -> Sequence[OutboxMessage]:
    """A patron's mails, newest first, with each one's state (STAFF-1)."""
    async with sessions() as db:
        rows = await db.execute(
            select(OutboxMessage)
            .where(OutboxMessage.patron_id == patron_id)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
        return rows.scalars().all()
