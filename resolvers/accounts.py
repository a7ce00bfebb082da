"""Logging in and out, changing the password, and the viewer's own account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select

from models import Patron, StaffUser
from policies.accounts import (
    PASSWORD_MAX,
    LoginThrottle,
    PasswordProblem,
    can_log_in,
    check_new_password,
    check_not_locked,
)
from policies.enums import PasswordState
from policies.errors import ErrorCode, RuleViolation
from policies.text import has_nul
from resolvers import sessions, throttle
from resolvers.context import Context, PatronViewer, StaffViewer

# Anything longer is not a password we could have issued; refuse without hashing it, so a
# megabyte "password" costs nothing.
MAX_LOGIN_SECRET = 128
MAX_LOGIN_ID = 50


@dataclass(slots=True)
class LoginResult:
    """What a login attempt came to: a session token and its owner, or errors."""

    token: str | None = None
    patron: Patron | None = None
    staff: StaffUser | None = None
    errors: list[RuleViolation] = field(default_factory=list)


def _bad_credentials() -> RuleViolation:
    return RuleViolation(ErrorCode.INVALID_CREDENTIALS, "AUTH-1")


def _address_key(ctx: Context) -> str | None:
    """The throttle key of the client address, if the request has one."""
    return f"login-ip:{ctx.client_ip}" if ctx.client_ip else None


def _lock_of(state: LoginThrottle, now: datetime) -> RuleViolation | None:
    """The ``ACCOUNT_LOCKED`` refusal while ``state`` is locked, else ``None``."""
    try:
        check_not_locked(state, now)
    except RuleViolation as locked:
        return locked
    return None


def _as_rate_limited(locked: RuleViolation) -> RuleViolation:
    """An address over its limit: ``RATE_LIMITED``, saying nothing about any card."""
    return RuleViolation(ErrorCode.RATE_LIMITED, "AUTH-11", **locked.params)


async def _count_failure(ctx: Context, key: str) -> RuleViolation:
    """Count a failed attempt against the card and the client address; the answer says
    ``ACCOUNT_LOCKED`` once the card locks (AUTH-11), with ``Retry-After``. The address
    count (ten times the card's limit) stops one client guessing across many cards."""
    now = ctx.services.clock.now()
    if (address := _address_key(ctx)) is not None:
        await throttle.record_failure(
            ctx.services.sessions, address, now, throttle.address_policy(ctx.policy.accounts)
        )
    state = await throttle.record_failure(ctx.services.sessions, key, now, ctx.policy.accounts)
    if (locked := _lock_of(state, now)) is not None:
        ctx.advise_retry(locked)
        return locked
    return _bad_credentials()


async def _locked(ctx: Context, key: str) -> RuleViolation | None:
    """``ACCOUNT_LOCKED`` while the card is locked, ``RATE_LIMITED`` while the client
    address is, else ``None``; checked before any hashing, so a locked attempt is cheap."""
    now = ctx.services.clock.now()
    address = _address_key(ctx)
    async with ctx.services.sessions() as db:
        state = await throttle.current(db, key)
        wide = await throttle.current(db, address) if address is not None else None
    refusal = _lock_of(state, now)
    if refusal is None and wide is not None and (over := _lock_of(wide, now)) is not None:
        refusal = _as_rate_limited(over)
    if refusal is not None:
        ctx.advise_retry(refusal)
    return refusal


Account = TypeVar("Account", Patron, StaffUser)


async def _authenticate(
    ctx: Context,
    model: type[Account],
    key: str,
    login_id: str,
    password: str,
    usable: Callable[[Account], bool],
) -> tuple[Account | None, RuleViolation | None]:
    """Find the account by its login id and verify the password, counting failures.

    An unknown id, an unusable account and a wrong password give the same
    ``INVALID_CREDENTIALS`` after the same hashing work, so nothing tells them apart.
    """
    if (locked := await _locked(ctx, key)) is not None:
        return None, locked
    if (
        not login_id
        or len(login_id) > MAX_LOGIN_ID
        or len(password) > MAX_LOGIN_SECRET
        or has_nul(login_id)
    ):
        return None, await _count_failure(ctx, key)
    column = model.card_number if model is Patron else model.username  # type: ignore[attr-defined]
    async with ctx.services.sessions() as db:
        account = (await db.execute(select(model).where(column == login_id))).scalar_one_or_none()
    stored = account.password_hash if account is not None and usable(account) else None
    if not await ctx.services.hasher.verify(stored, password):
        return None, await _count_failure(ctx, key)
    return account, None


async def _start_session(ctx: Context, account: Patron | StaffUser, key: str, password: str) -> str:
    """Clear the failure count, upgrade an old hash (``check_needs_rehash``) and open a session."""
    async with ctx.services.sessions() as db, db.begin():
        await throttle.clear(db, key)
        assert account.password_hash is not None
        if ctx.services.hasher.needs_rehash(account.password_hash):
            fresh: Patron | StaffUser | None = await db.get(type(account), account.id)
            if fresh is not None:
                fresh.password_hash = await ctx.services.hasher.hash(password)
        owner = (
            {"patron_id": account.id} if isinstance(account, Patron) else {"staff_id": account.id}
        )
        return await sessions.open_session(
            db, now=ctx.services.clock.now(), user_agent=ctx.user_agent, **owner
        )


async def login(ctx: Context, card_number: str, password: str) -> LoginResult:
    """Card number + password (AUTH-1) opens a session, unless the card is locked (AUTH-11).

    A card with no password, or an invalidated one, cannot log in (AUTH-9).
    """
    card_number = card_number.strip()
    key = f"patron:{card_number[:MAX_LOGIN_ID]}"
    patron, error = await _authenticate(
        ctx, Patron, key, card_number, password, lambda p: can_log_in(p.password_state)
    )
    if error is not None or patron is None:
        return LoginResult(errors=[error or _bad_credentials()])
    return LoginResult(token=await _start_session(ctx, patron, key, password), patron=patron)


async def staff_login(ctx: Context, username: str, password: str) -> LoginResult:
    """Staff sign in with their own accounts, never a patron's (STAFF-1)."""
    username = username.strip()
    key = f"staff:{username[:MAX_LOGIN_ID]}"
    staff, error = await _authenticate(ctx, StaffUser, key, username, password, lambda s: s.active)
    if error is not None or staff is None:
        return LoginResult(errors=[error or _bad_credentials()])
    return LoginResult(token=await _start_session(ctx, staff, key, password), staff=staff)


async def logout(ctx: Context) -> bool:
    """End the current session; ``False`` if there was none."""
    viewer = ctx.viewer
    if not isinstance(viewer, PatronViewer | StaffViewer):
        return False
    async with ctx.services.sessions() as db, db.begin():
        await sessions.end_session(db, viewer.session_id)
    return True


async def change_password(
    ctx: Context, viewer: PatronViewer, current_password: str, new_password: str
) -> LoginResult:
    """Change the password (AUTH-7); a temporary password may do this and nothing else (AUTH-5).

    The current password must match (a mismatch counts toward the lockout like a failed
    login); the new one must pass AUTH-6. Success makes the password active, ends every
    other session and replaces this session's token.
    """
    key = f"patron:{viewer.card_number}"
    if (locked := await _locked(ctx, key)) is not None:
        return LoginResult(errors=[locked])
    async with ctx.services.sessions() as db:
        patron = await db.get(Patron, viewer.patron_id)
    if patron is None:
        return LoginResult(errors=[RuleViolation(ErrorCode.NOT_FOUND)])
    if len(current_password) > MAX_LOGIN_SECRET:
        ok = False
    else:
        ok = await ctx.services.hasher.verify(patron.password_hash, current_password)
    if not ok:
        failure = await _count_failure(ctx, key)
        if failure.code is ErrorCode.ACCOUNT_LOCKED:
            return LoginResult(errors=[failure])
        return LoginResult(
            errors=[
                RuleViolation(ErrorCode.WRONG_CURRENT_PASSWORD, "AUTH-7", field="currentPassword")
            ]
        )
    try:
        check_new_password(
            new_password,
            card_number=patron.card_number,
            birth_date=patron.birth_date,
            name_kana=patron.name_kana,
        )
        if new_password == current_password:
            raise RuleViolation(
                ErrorCode.INVALID_PASSWORD,
                "AUTH-6",
                field="newPassword",
                reason=PasswordProblem.SAME_AS_CURRENT.value,
            )
    except RuleViolation as bad:
        return LoginResult(errors=[bad])
    assert len(new_password) <= PASSWORD_MAX
    new_hash = await ctx.services.hasher.hash(new_password)
    now = ctx.services.clock.now()
    async with ctx.services.sessions() as db, db.begin():
        fresh = await db.get(Patron, viewer.patron_id, with_for_update=True)
        if fresh is None:
            return LoginResult(errors=[RuleViolation(ErrorCode.NOT_FOUND)])
        fresh.password_hash = new_hash
        fresh.password_state = PasswordState.ACTIVE
        fresh.password_changed_at = now
        await throttle.clear(db, key)
        await sessions.end_other_sessions(db, fresh.id, keep_session_id=None)
        token = await sessions.open_session(
            db, now=now, patron_id=fresh.id, user_agent=ctx.user_agent
        )
    return LoginResult(token=token, patron=fresh)


async def get_patron(ctx: Context, patron_id: int) -> Patron | None:
    """One patron by id, through the request's loader."""
    patron: Patron | None = await ctx.loaders.patron.load(patron_id)
    return patron


async def find_patron_by_card(ctx: Context, card_number: str) -> Patron | None:
    """A patron by card number, for staff (STAFF-1)."""
    if not card_number or len(card_number) > MAX_LOGIN_ID or has_nul(card_number):
        return None
    async with ctx.services.sessions() as db:
        return (
            await db.execute(select(Patron).where(Patron.card_number == card_number.strip()))
        ).scalar_one_or_none()
