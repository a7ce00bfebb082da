"""Issuing passwords: the web application (AUTH-3) and the staff application it becomes
without an address on file, the counter (AUTH-2, AUTH-4), the forgotten-password reset by
card number + registered address (AUTH-8), and invalidation and leaving the city at the
counter (AUTH-9). Every issue is a temporary password (AUTH-5).

The two anonymous web forms answer the same whatever the facts, do the same hashing work
either way, and are throttled per card number and per client address, so they tell an
outsider nothing about which cards exist or which addresses they have.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Application, Patron
from models.db import lock_row
from policies.accounts import check_not_locked, password_problem
from policies.enums import ApplicationKind, ApplicationState, ContactMethod, PasswordState
from policies.errors import ErrorCode, RuleViolation
from policies.preferences import normalize_email
from policies.school import check_password_age, check_web_application_age
from policies.text import has_nul
from resolvers.accounts import sessions, throttle
from resolvers.mail.outbox import queue_mail
from resolvers.shared import privacy
from resolvers.shared.context import Context

# No 0/O, 1/l/I: a temporary password is read off paper or a phone screen.
ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMPORARY_LENGTH = 8


def temporary_password(card_number: str, birth: date) -> str:
    """A random temporary password that passes AUTH-6 (letters and digits, not guessable)."""
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(TEMPORARY_LENGTH))
        mixed = any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate)
        if mixed and password_problem(candidate, card_number=card_number, birth_date=birth) is None:
            return candidate


async def _issue(
    ctx: Context, db: AsyncSession, patron: Patron, *, by_mail: bool, reset: bool = False
) -> str:
    """Give ``patron`` a new temporary password; mail it if asked.

    ``reset``: a forgotten password re-issued (AUTH-8): it waits beside the current password
    until it is used, and only its mail says 再発行; otherwise it is the first one (AUTH-3)
    and replaces the password at once, ending the patron's sessions."""
    now = ctx.services.clock.now()
    password = temporary_password(patron.card_number, patron.birth_date)
    new_hash = await ctx.services.hasher.hash(password)
    if reset:
        # An anonymous request locks nobody out: the current password and sessions stay
        # until the temporary password is used (resolvers/accounts/accounts.py, AUTH-8).
        patron.pending_password_hash = new_hash
    else:
        patron.password_hash = new_hash
        patron.pending_password_hash = None
        patron.password_state = PasswordState.TEMPORARY
        patron.password_changed_at = now
        await sessions.end_other_sessions(db, patron.id, keep_session_id=None)
    if by_mail:
        await queue_mail(
            db,
            kind="temporary_password",
            dedupe_key=f"temporary-password:{patron.id}:{now.isoformat()}",
            patron_id=patron.id,
            payload={"temporary_password": password, "reissue": reset},
            not_before=now,
            now=now,
        )
    return password


async def throttled(ctx: Context, kind: str, card_number: str) -> None:
    """Count an anonymous request per key (a card number, an address) and per client
    address; refuse while either is over its limit (the card's limit is the login lockout's, the address's ten times it)."""
    now = ctx.services.clock.now()
    card_policy = ctx.policy.accounts
    keys = [(f"{kind}:{card_number[:50]}", card_policy)]
    if ctx.client_ip:
        keys.append((f"{kind}-ip:{ctx.client_ip}", throttle.address_policy(card_policy)))
    for key, policy in keys:
        state = await throttle.record_failure(ctx.services.sessions, key, now, policy)
        try:
            check_not_locked(state, now)
        except RuleViolation as locked:
            limited = RuleViolation(ErrorCode.RATE_LIMITED, "AUTH-8", **locked.params)
            ctx.advise_retry(limited)
            raise limited from None


async def _patron_by_card(db: AsyncSession, card_number: str) -> Patron | None:
    if not card_number or len(card_number) > 50 or has_nul(card_number):
        return None
    return (
        await db.execute(select(Patron).where(Patron.card_number == card_number))
    ).scalar_one_or_none()


async def request_reset(ctx: Context, card_number: str, email: str) -> None:
    """AUTH-8: card number + a registered address re-issues a temporary password by mail.
    The same (empty) answer whether or not the pair matched; without a registered address
    the patron must go to the counter, which the answer's wording says for everyone."""
    card_number = card_number.strip()
    await throttled(ctx, "reset", card_number)
    try:
        address = normalize_email(email, "email")
    except RuleViolation:
        address = None
    async with ctx.services.sessions() as db, db.begin():
        patron = await _patron_by_card(db, card_number)
        matched = (
            patron is not None
            and patron.password_state in (PasswordState.ACTIVE, PasswordState.TEMPORARY)
            and _holds_address(patron, address)
        )
        if matched and patron is not None:
            await lock_row(db, Patron, patron.id)
            await _issue(ctx, db, patron, by_mail=True, reset=True)
        else:
            await ctx.services.hasher.hash(temporary_password("0", date(2000, 1, 1)))
    if matched:
        await ctx.services.nudge()


def _holds_address(patron: Patron, address: str | None) -> bool:
    """Whether ``address`` is one the library already holds for ``patron``."""
    held = {(patron.email1 or "").lower(), (patron.email2 or "").lower()} - {""}
    return address is not None and address.lower() in held


async def apply_on_web(ctx: Context, card_number: str, birth_date: date, email: str) -> None:
    """AUTH-3: a card holder of middle-school age or older applies on the web with card
    number, birth date and an address; a temporary password is mailed only when that
    address is one the library already holds for the card, and the typed address is never
    stored. With no address on file at all the application becomes a staff application
    (one open per card), and staff hand the password over at the counter. The answer, the
    same for everyone, says both. Younger applicants are told to come to the counter
    (judged on the birth date they typed, so the answer reveals nothing about the card)."""
    card_number = card_number.strip()
    check_web_application_age(birth_date, ctx.today())
    address = normalize_email(email, "email")
    await throttled(ctx, "apply", card_number)
    async with ctx.services.sessions() as db, db.begin():
        patron = await _patron_by_card(db, card_number)
        applicant = (
            patron
            if patron is not None
            and patron.birth_date == birth_date
            and patron.password_state is PasswordState.NONE
            else None
        )
        mailed = applicant is not None and _holds_address(applicant, address)
        if applicant is not None and mailed:
            await lock_row(db, Patron, applicant.id)
            await _issue(ctx, db, applicant, by_mail=True)
        else:
            if applicant is not None and not _holds_any_address(applicant):
                await _queue_for_staff(ctx, db, applicant)
            # The same hashing work as an issue, so the answer's timing says nothing either.
            await ctx.services.hasher.hash(temporary_password("0", date(2000, 1, 1)))
    if mailed:
        await ctx.services.nudge()


def _holds_any_address(patron: Patron) -> bool:
    return bool((patron.email1 or "").strip() or (patron.email2 or "").strip())


async def _queue_for_staff(ctx: Context, db: AsyncSession, patron: Patron) -> None:
    """AUTH-3: record the web application for staff, unless the card already has an open
    one (the patron row lock serialises repeats; a partial unique index backs it). Only
    what the library holds is kept: the card, its name and birth date, never the typed
    address."""
    await lock_row(db, Patron, patron.id)
    await db.refresh(patron)  # a counter issue or a new address may have come meanwhile
    if patron.password_state is not PasswordState.NONE or _holds_any_address(patron):
        return
    open_one = await db.execute(
        select(Application.id).where(
            Application.patron_id == patron.id,
            Application.kind == ApplicationKind.PASSWORD_ISSUE,
            Application.state == ApplicationState.PENDING,
        )
    )
    if open_one.first() is not None:
        return
    db.add(
        Application(
            kind=ApplicationKind.PASSWORD_ISSUE,
            state=ApplicationState.PENDING,
            name=patron.name,
            birth_date=patron.birth_date,
            email=None,
            card_number=patron.card_number,
            patron_id=patron.id,
            created_at=ctx.services.clock.now(),
        )
    )


async def issue_on_application(ctx: Context, db: AsyncSession, patron_id: int | None) -> str:
    """AUTH-3: staff approve a web application that had no address on file: the temporary
    password (AUTH-5) is issued at the counter, in the caller's transaction, and shown once
    to staff, as :func:`issue_at_counter` does. Only a card still without a password gets
    one: a password issued meanwhile, or one invalidated at the counter (AUTH-9), refuses."""
    if patron_id is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, "AUTH-3", field="cardNumber")
    await lock_row(db, Patron, patron_id)
    patron = await db.get(Patron, patron_id, populate_existing=True)
    if patron is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, "AUTH-3", field="cardNumber")
    if patron.password_state is PasswordState.INVALIDATED:
        raise RuleViolation(ErrorCode.PASSWORD_INVALIDATED, "AUTH-9")
    if patron.password_state is not PasswordState.NONE:
        raise RuleViolation(ErrorCode.PASSWORD_ALREADY_ISSUED, "AUTH-3")
    check_password_age(patron.birth_date, ctx.today(), patron.guardian_consent)
    password = await _issue(ctx, db, patron, by_mail=False)
    privacy.record_act(db, ctx, "password_issued", patron.id)
    return password


@dataclass(frozen=True, slots=True)
class CounterIssue:
    """A password issued at the counter: shown once to the staff member to hand over."""

    patron: Patron
    temporary_password: str


async def issue_at_counter(
    ctx: Context, card_number: str, *, guardian_consent: bool, proxy: bool
) -> CounterIssue:
    """AUTH-2: staff issue a temporary password to a card holder of elementary-school age or
    older, pupils with a guardian's consent; AUTH-4: a proxy application for a patron with a
    disability who cannot visit is recorded the same way (``proxy``)."""
    async with ctx.services.sessions() as db, db.begin():
        patron = await _patron_by_card(db, card_number.strip())
        if patron is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="cardNumber")
        await lock_row(db, Patron, patron.id)
        check_password_age(patron.birth_date, ctx.today(), guardian_consent)
        patron.guardian_consent = guardian_consent
        password = await _issue(ctx, db, patron, by_mail=False)
    await privacy.audit(
        ctx, "proxy_password_application" if proxy else "password_issued", patron.id
    )
    return CounterIssue(patron=patron, temporary_password=password)


async def invalidate(ctx: Context, card_number: str, *, left_city: bool) -> Patron:
    """AUTH-9: at the counter only. The password stops working at once and every session
    ends; leaving the city also ends the card (expired from today) and its e-mail contact."""
    async with ctx.services.sessions() as db, db.begin():
        patron = await _patron_by_card(db, card_number.strip())
        if patron is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="cardNumber")
        await lock_row(db, Patron, patron.id)
        patron.password_hash = None
        patron.pending_password_hash = None
        patron.password_state = PasswordState.INVALIDATED
        await sessions.end_other_sessions(db, patron.id, keep_session_id=None)
        if left_city:
            patron.card_expires_on = min(patron.card_expires_on, ctx.today() - timedelta(days=1))
            patron.contact_method = ContactMethod.NONE
    return patron
