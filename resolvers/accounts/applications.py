"""Web applications (APP-1): new registration, card re-issue, change of registered
details, card renewal and card-number notice. The public submits; staff approve or reject;
the applicant is told by mail through the outbox. A web password application with no
address on file (AUTH-3) waits in the same queue; approving it issues the temporary
password at the counter, and no mail goes (there is no address)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Application, Patron
from models.db import lock_row
from policies.enums import ApplicationKind, ApplicationState, CardKind
from policies.errors import ErrorCode, RuleViolation
from policies.preferences import normalize_email
from policies.text import has_nul
from resolvers.accounts import sessions
from resolvers.accounts.password_issue import issue_on_application, throttled
from resolvers.mail.outbox import queue_mail
from resolvers.shared.context import Context, StaffViewer

NEEDS_CARD = {
    ApplicationKind.CARD_REISSUE,
    ApplicationKind.DETAILS_CHANGE,
    ApplicationKind.CARD_RENEWAL,
}
MAX_DETAILS = 1000


@dataclass(frozen=True, slots=True)
class Submission:
    """What an applicant typed."""

    kind: ApplicationKind
    name: str
    birth_date: date
    email: str
    card_number: str | None = None
    details: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A decided application, and the temporary password an approved password application
    issued (AUTH-3), shown once to staff and stored nowhere."""

    application: Application
    temporary_password: str | None = None


def _clean(sub: Submission, today: date) -> Submission:
    if sub.kind is ApplicationKind.PASSWORD_ISSUE:
        # AUTH-3: only the web password application files this, from what the card holds.
        raise RuleViolation(ErrorCode.INVALID_INPUT, "AUTH-3", field="kind")
    name = " ".join(sub.name.split())
    if not name or len(name) > 100 or not name.isprintable():
        raise RuleViolation(ErrorCode.INVALID_INPUT, "APP-1", field="name")
    if not date(1900, 1, 1) <= sub.birth_date <= today:
        raise RuleViolation(ErrorCode.INVALID_INPUT, "APP-1", field="birthDate")
    card = (sub.card_number or "").strip() or None
    if sub.kind in NEEDS_CARD and (card is None or len(card) > 20 or not card.isalnum()):
        raise RuleViolation(ErrorCode.INVALID_INPUT, "APP-1", field="cardNumber")
    details = (sub.details or "").strip() or None
    if details is not None and (
        len(details) > MAX_DETAILS or not details.replace("\n", " ").isprintable()
    ):
        raise RuleViolation(ErrorCode.INVALID_INPUT, "APP-1", field="details")
    email = normalize_email(sub.email, "email")
    return Submission(sub.kind, name, sub.birth_date, email, card, details)


async def submit(ctx: Context, sub: Submission) -> Application:
    """Queue an application for staff. Anyone may apply; throttled per client address."""
    clean = _clean(sub, ctx.today())
    await throttled(ctx, "application", clean.email)
    async with ctx.services.sessions() as db, db.begin():
        patron_id = None
        if clean.card_number is not None:
            patron = (
                await db.execute(
                    select(Patron).where(
                        Patron.card_number == clean.card_number,
                        Patron.birth_date == clean.birth_date,
                    )
                )
            ).scalar_one_or_none()
            patron_id = patron.id if patron is not None else None  # shown to staff only
        row = Application(
            kind=clean.kind,
            state=ApplicationState.PENDING,
            name=clean.name,
            birth_date=clean.birth_date,
            email=clean.email,
            card_number=clean.card_number,
            details=clean.details,
            patron_id=patron_id,
            created_at=ctx.services.clock.now(),
        )
        db.add(row)
    return row


async def queue(ctx: Context, state: ApplicationState) -> Sequence[Application]:
    """The staff queue: applications in ``state``, oldest first (at most 200)."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(Application)
            .where(Application.state == state)
            .order_by(Application.created_at, Application.id)
            .limit(200)
        )
        return rows.scalars().all()


def new_card_number() -> str:
    """A fresh 10-digit card number (collisions are retried by the unique constraint)."""
    return "3" + "".join(secrets.choice("0123456789") for _ in range(9))


async def _locked_pending(db: AsyncSession, application_id: int) -> Application:
    """The application, locked, if it still waits for a decision (APP-1)."""
    await lock_row(db, Application, application_id)
    app = await db.get(Application, application_id, populate_existing=True)
    if app is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="applicationId")
    if app.state is not ApplicationState.PENDING:
        raise RuleViolation(ErrorCode.ALREADY_DECIDED, "APP-1")
    return app


async def _carry_out(
    ctx: Context, db: AsyncSession, app: Application, card_number: str | None
) -> dict[str, object]:
    """Do what an approved application asked: register, renew or reissue the card. The
    result (card number, expiry) goes into the applicant's mail."""
    now, today = ctx.services.clock.now(), ctx.today()
    years = ctx.policy.circulation.card_valid_years
    patron = None
    lookup = card_number or (app.card_number if app.patron_id is not None else None)
    if lookup is not None and not has_nul(lookup):
        patron = (
            await db.execute(select(Patron).where(Patron.card_number == lookup))
        ).scalar_one_or_none()
    if app.kind is ApplicationKind.NEW_REGISTRATION:
        patron = Patron(
            card_number=new_card_number(),
            name=app.name,
            birth_date=app.birth_date,
            card_kind=CardKind.CITY,
            card_expires_on=today.replace(year=today.year + years),
            email1=app.email,
            created_at=now,
        )
        db.add(patron)
        await db.flush()
    elif patron is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, "APP-1", field="cardNumber")
    elif app.kind is ApplicationKind.CARD_RENEWAL:
        base = max(today, patron.card_expires_on)
        patron.card_expires_on = base.replace(year=base.year + years)
    elif app.kind is ApplicationKind.CARD_REISSUE:
        patron.card_number = new_card_number()  # the lost card stops working
        await sessions.end_other_sessions(db, patron.id, keep_session_id=None)
    app.patron_id = patron.id
    return {
        "card_number": patron.card_number,
        "card_expires_on": patron.card_expires_on.isoformat(),
    }


async def _tell_applicant(
    db: AsyncSession, app: Application, result: dict[str, object], now: datetime
) -> None:
    """Owe the decision mail, in the decision's transaction."""
    await queue_mail(
        db,
        kind="application_decision",
        dedupe_key=f"application:{app.id}",
        patron_id=None,  # the applicant may have no account: mail goes to `to`
        payload={
            "to": app.email,
            "name": app.name,
            "kind": app.kind.value,
            "approved": app.state is ApplicationState.APPROVED,
            "note": app.decision_note or "",
            **result,
        },
        not_before=now,
        now=now,
    )


async def decide(
    ctx: Context,
    staff: StaffViewer,
    application_id: int,
    *,
    approve: bool,
    note: str | None,
    card_number: str | None,
) -> Decision:
    """Approve or reject; approval does what was asked, and either way the applicant is
    told by mail. ``card_number`` lets staff name the patron they identified (notice).
    A password application (AUTH-3) acts on its own card only and mails nobody."""
    if note is not None and len(note) > MAX_DETAILS:
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="note")
    now = ctx.services.clock.now()
    password = None
    async with ctx.services.sessions() as db, db.begin():
        app = await _locked_pending(db, application_id)
        by_mail = app.kind is not ApplicationKind.PASSWORD_ISSUE
        result: dict[str, object] = {}
        if approve and not by_mail:
            password = await issue_on_application(ctx, db, app.patron_id)
        elif approve:
            result = await _carry_out(ctx, db, app, card_number)
        app.state = ApplicationState.APPROVED if approve else ApplicationState.REJECTED
        app.decided_at = now
        app.decided_by = staff.staff_id
        app.decision_note = note
        app.result = result or None
        if by_mail:
            await _tell_applicant(db, app, result, now)
    if by_mail:
        await ctx.services.nudge()
    return Decision(app, password)
