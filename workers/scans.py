"""The scheduled scans, one task per workflow: hold expiry (HOLD-8/9), due-date reminders
(MAIL-2), overdue notices (MAIL-3), weekly new arrivals (MAIL-4) and the mail retention
scrub (reading privacy). Each is idempotent and catches up after a missed run; each mail
scan then runs the dispatcher for what it queued."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from policies.config import PolicyConfig
from resolvers.circulation.expiry import expire_ready_holds
from resolvers.circulation.new_arrivals import queue_new_arrivals
from resolvers.circulation.notices import queue_due_reminders, queue_overdue_notices
from resolvers.ebooks import ebooks
from workers.app import app
from workers.dispatch import dispatch_once
from workers.mail_privacy import scrub_expired_mail
from workers.runtime import moment, run, runtime


@app.task(name="hondana.holds.expire", ignore_result=False)
def expire_holds(now: str | None = None) -> dict[str, int]:
    """READY holds past their pickup deadline expire; the copy goes to the next hold."""
    rt = runtime()
    instant, today = moment(now)
    report = run(expire_ready_holds(rt.sessions, rt.policy, instant, today))
    return {
        "expired": len(report.expired),
        "kept": len(report.kept),
        "passed_on": len(report.passed_on),
    }


# A scan: (sessions, policy, now, library day) → how many mails it queued.
Scan = Callable[
    [async_sessionmaker[AsyncSession], PolicyConfig, datetime, date], Coroutine[Any, Any, int]
]


def _queue_and_send(scan: Scan, now: str | None) -> dict[str, int]:
    """Run one mail scan, then the dispatcher for what it queued."""
    rt = runtime()
    instant, today = moment(now)
    queued = run(scan(rt.sessions, rt.policy, instant, today))
    return {"queued": queued, "sent": dispatch_once(now).sent}


@app.task(name="hondana.mail.due_reminders", ignore_result=False)
def due_reminders(now: str | None = None) -> dict[str, int]:
    """Queue today's due-date reminders (MAIL-2) and send them."""
    return _queue_and_send(queue_due_reminders, now)


@app.task(name="hondana.mail.overdue", ignore_result=False)
def overdue_notices(now: str | None = None) -> dict[str, int]:
    """Queue today's overdue notices (MAIL-3) and send them."""
    return _queue_and_send(queue_overdue_notices, now)


@app.task(name="hondana.mail.new_arrivals", ignore_result=False)
def new_arrivals(now: str | None = None) -> dict[str, int]:
    """Queue the weekly new-arrivals mails (MAIL-4) and send them."""
    return _queue_and_send(queue_new_arrivals, now)


@app.task(name="hondana.ebooks.sweep", ignore_result=False)
def ebook_sweep(now: str | None = None) -> dict[str, int]:
    """Return e-books due back and expire secured e-book holds not borrowed in a week
    (EBOOK-2, EBOOK-3); freed licences go to the next holds, with their mails (MAIL-5)."""
    rt = runtime()
    instant, _ = moment(now)
    returned, expired = run(ebooks.sweep(rt.sessions, rt.policy, instant))
    return {"returned": returned, "expired": expired, "sent": dispatch_once(now).sent}


@app.task(name="hondana.mail.scrub", ignore_result=False)
def scrub_mail(now: str | None = None) -> dict[str, int]:
    """Sent and failed mails past the retention period keep only kind, day, state and the
    recipients' domains (reading privacy). Idempotent: a scrubbed mail is not touched again."""
    rt = runtime()
    instant, _ = moment(now)
    retention = timedelta(days=rt.settings.mail_retention_days)
    timezone = rt.policy.service.timezone
    return {"scrubbed": run(scrub_expired_mail(rt.sessions, instant, retention, timezone))}
