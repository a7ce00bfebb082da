"""The outbox dispatcher (MAIL-8): claim due mails, send each to Email1 and Email2, record
the outcome. Several dispatchers may run at once; each claims its own rows.

Exactly once, as far as SMTP allows: a row is claimed (leased) before sending and marked
sent in its own commit right after the server's 250, so a worker that dies mid-batch leaves
unsent rows to be claimed again when the lease runs out. The next mail's envelope may go
while that commit travels, but not its end: the server takes it only once the previous
mail is recorded, so at most one delivered mail is ever unrecorded. The one window SMTP
itself leaves open, between the server accepting DATA and our commit, is a few
milliseconds; the stable Message-ID lets a receiver recognise a repeat from there.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from celery.utils.log import get_task_logger
from sqlalchemy.ext.asyncio import AsyncConnection

from resolvers.mail import mail as outbox
from resolvers.mail.mail import Claimed
from workers.app import app
from workers.compose import compose
from workers.mail_privacy import Recheck, recheck
from workers.metrics import count_deliveries, mark_scheduled_run
from workers.runtime import moment, run, runtime
from workers.senders import (
    PermanentFailure,
    Sender,
    TemporaryFailure,
    Unreachable,
    make_sender,
)

log = get_task_logger(__name__)
# Payload keys masked in the text kept for staff (the payload itself goes once sent).
SCRUB = {"temporary_password": ("temporary_password",)}


@dataclass(slots=True)
class DispatchReport:
    """Counts of one dispatcher run."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


async def _recheck(batch: list[Claimed]) -> Recheck:
    async with runtime().sessions() as db:
        return await recheck(db, batch)


@dataclass(slots=True)
class _Batch:
    """One claimed batch being delivered by one dispatcher."""

    worker: str
    now: datetime
    sender: Sender
    report: DispatchReport
    conn: AsyncConnection  # the "sent" records' connection: held for the batch, autocommit
    recording: asyncio.Future[None] | None = None  # the last delivery's record, in flight

    async def recorded(self) -> None:
        """Wait for the last delivered mail's "sent" record to be committed."""
        recording, self.recording = self.recording, None
        if recording is not None:
            await recording


async def _deliver(mail: Claimed, batch: _Batch) -> bool:
    """Send one mail and record the outcome; ``False`` when the server is unreachable.

    The server takes this mail only after the previous one's "sent" record is committed
    (the sender's gate, ``_Batch.recorded``): were both unrecorded at once, a worker
    killed then would leave two mails to be sent again. What overlaps the record's round
    trip sends nothing for good: composing this mail, and its envelope up to the 354.
    """
    rt = runtime()
    report, worker, now = batch.report, batch.worker, batch.now
    message = compose(mail, rt.settings, now, SCRUB.get(mail.kind, ()))
    try:
        # Handed over only once the previous mail is recorded (the gate).
        refused = await batch.sender.send(
            message.sender, message.recipients, message.data, batch.recorded
        )
    except Unreachable as exc:
        await outbox.mark_retry(rt.sessions, mail.id, worker, now, str(exc))
        report.retried += 1
        report.errors.append(str(exc))
        return False
    except TemporaryFailure as exc:
        await outbox.mark_retry(rt.sessions, mail.id, worker, now, str(exc))
        if exc.refused:
            await outbox.mark_partly_refused(rt.sessions, mail.patron_id, exc.refused)
        report.retried += 1
        report.errors.append(str(exc))
        return True
    except PermanentFailure as exc:
        await outbox.mark_failed(rt.sessions, mail.id, worker, now, str(exc), exc.refused)
        report.failed += 1
        return True
    batch.recording = asyncio.ensure_future(
        outbox.mark_sent(
            batch.conn,
            mail.id,
            worker,
            now,
            message_id=message.message_id,
            recipients=[a for a in mail.addresses if a not in refused],
            body=message.text,
        )
    )
    # One turn of the loop puts its UPDATE on the wire; its round trip (a commit on the
    # database's disk) then overlaps composing the next mail and sending its envelope.
    await asyncio.sleep(0)
    if refused:
        await outbox.mark_partly_refused(rt.sessions, mail.patron_id, refused)
    report.sent += 1
    return True


async def _dispatch_batch(
    claimed: list[Claimed], worker: str, now: datetime, report: DispatchReport
) -> bool:
    """Deliver a claimed batch over one SMTP connection, recording each delivery on one
    database connection held for the batch; ``False`` if the server was unreachable."""
    rt = runtime()
    async with rt.engine.connect() as pooled:
        conn = await pooled.execution_options(isolation_level="AUTOCOMMIT")
        sender = make_sender(rt.settings)
        batch = _Batch(worker=worker, now=now, sender=sender, report=report, conn=conn)
        return await _deliver_batch(claimed, batch)


async def _deliver_batch(claimed: list[Claimed], batch: _Batch) -> bool:
    """Deliver a claimed batch; ``False`` if the server was unreachable part-way."""
    rt = runtime()
    # Re-checked at send time: a returned loan earns no reminder (reading privacy).
    found = await _recheck(claimed)
    try:
        for i, mail in enumerate(claimed):
            why = found.stale.get(mail.id) or (None if mail.addresses else "no usable address")
            if why is not None:
                await outbox.mark_skipped(rt.sessions, mail.id, batch.worker, why)
                batch.report.skipped += 1
                continue
            if mail.id in found.payloads:
                mail = replace(mail, payload=found.payloads[mail.id])
            if not await _deliver(mail, batch):
                # Unreachable: the rest of the batch goes back untried, for later.
                await outbox.release(rt.sessions, [m.id for m in claimed[i + 1 :]], batch.worker)
                return False
        return True
    finally:
        try:
            await batch.recorded()  # a delivered mail is recorded whatever ended the batch
        finally:
            batch.sender.close()


def dispatch_once(now_iso: str | None = None, limit: int | None = None) -> DispatchReport:
    """Send every due mail, batch by batch, until none is left (or the server is down)."""
    rt = runtime()
    now, _ = moment(now_iso)
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    size = limit or rt.settings.dispatch_batch
    report = DispatchReport()
    while True:
        claimed = run(outbox.claim(rt.sessions, worker, now, size))
        if not claimed:
            return count_deliveries(report)
        if not run(_dispatch_batch(claimed, worker, now, report)) or len(claimed) < size:
            return count_deliveries(report)


@app.task(name="hondana.mail.dispatch", ignore_result=False)
def dispatch_outbox(now: str | None = None, scheduled: bool = False) -> dict[str, int]:
    """Celery task: run the dispatcher once (beat every minute, and nudged after commits).

    Only beat's runs (``scheduled``) set the last-run time operators alert on: a nudged run
    follows e.g. a password reset that matched, and must not tell that to a metrics reader.
    """
    report = dispatch_once(now)
    if scheduled:
        mark_scheduled_run()
    if report.errors:
        log.warning("mail dispatch: %s", report.errors[-1])
    return {
        "sent": report.sent,
        "retried": report.retried,
        "failed": report.failed,
        "skipped": report.skipped,
    }
