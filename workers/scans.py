"""The scheduled scans, one task per workflow: hold expiry (HOLD-8/9), due-date reminders
(MAIL-2), overdue notices (MAIL-3) and weekly new arrivals (MAIL-4). Each is idempotent
and catches up after a missed run; each then runs the dispatcher for what it queued."""

from __future__ import annotations

from resolvers.expiry import expire_ready_holds
from resolvers.notices import queue_due_reminders, queue_new_arrivals, queue_overdue_notices
from workers.app import app
from workers.dispatch import dispatch_once
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


@app.task(name="hondana.mail.due_reminders", ignore_result=False)
def due_reminders(now: str | None = None) -> dict[str, int]:
    """Queue today's due-date reminders and send them."""
    rt = runtime()
    instant, today = moment(now)
    queued = run(queue_due_reminders(rt.sessions, rt.policy, instant, today))
    sent = dispatch_once(now).sent
    return {"queued": queued, "sent": sent}


@app.task(name="hondana.mail.overdue", ignore_result=False)
def overdue_notices(now: str | None = None) -> dict[str, int]:
    """Queue today's overdue notices and send them."""
    rt = runtime()
    instant, today = moment(now)
    queued = run(queue_overdue_notices(rt.sessions, rt.policy, instant, today))
    return {"queued": queued, "sent": dispatch_once(now).sent}


@app.task(name="hondana.mail.new_arrivals", ignore_result=False)
def new_arrivals(now: str | None = None) -> dict[str, int]:
    """Queue the weekly new-arrivals mails and send them."""
    rt = runtime()
    instant, today = moment(now)
    queued = run(queue_new_arrivals(rt.sessions, rt.policy, instant, today))
    return {"queued": queued, "sent": dispatch_once(now).sent}
