"""Logging in and out, changing the password, and the viewer's own account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select

from models import Patron, StaffUser
from models.db import lock_row
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
from resolvers.accounts import sessions, throttle
from resolvers.shared.context import Context, PatronViewer, StaffViewer

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


# Verifications one card's attempts may run at once in this process, next to the count in
# the database (which bounds them across processes).
_VERIFYING = throttle.KeyedLimiter()


async def _admit(ctx: Context, key: str) -> datetime | RuleViolation:
    """Count this attempt against the client address and the card *before* verifying it,
    each in its own committed transaction (AUTH-11): however many arrive at once, in however
    many processes, only the lockout's number are verified. ``RATE_LIMITED`` while the
    address is over its limit (ten times the card's), ``ACCOUNT_LOCKED`` while the card is
    locked; else the instant the attempt was counted at."""
    now = ctx.services.clock.now()
    policy = ctx.policy.accounts
    if (address := _address_key(ctx)) is not None:
        sessions, wide = ctx.services.sessions, throttle.address_policy(policy)
        counted, state = await throttle.admit(sessions, address, now, wide)
        if not counted and (over := _lock_of(state, now)) is not None:
            refusal = _as_rate_limited(over)
            ctx.advise_retry(refusal)
            return refusal
    counted, state = await throttle.admit(ctx.services.sessions, key, now, policy)
    if not counted and (locked := _lock_of(state, now)) is not None:
        ctx.advise_retry(locked)
        return locked
    return now


async def verify_counted(
    ctx: Context, key: str, stored: str | None, password: str, *, plausible: bool = True
) -> RuleViolation | None:
    """Verify ``password`` against ``stored`` as one counted attempt for ``key`` (a card or
    staff user): ``None`` if it matched (the attempt is taken back), else the refusal:
    ``ACCOUNT_LOCKED`` once the card is locked (with ``Retry-After``), ``RATE_LIMITED``,
    or ``INVALID_CREDENTIALS``. An implausible input is counted but never hashed."""
    matched = await _verify_any(ctx, key, (stored,), password, plausible=plausible)
    return matched if isinstance(matched, RuleViolation) else None


async def _verify_any(
    ctx: Context,
    key: str,
    hashes: tuple[str | None, ...],
    password: str,
    *,
    plausible: bool = True,
) -> int | RuleViolation:
    """:func:`verify_counted` against each of ``hashes`` in turn (the current password,
    then a reset's waiting one): the index of the one that matched, or the refusal."""
    admitted = await _admit(ctx, key)
    if isinstance(admitted, RuleViolation):
        return admitted
    matched: int | None = None
    if plausible and len(password) <= MAX_LOGIN_SECRET:
        async with _VERIFYING.hold(throttle.db_key(key), ctx.policy.accounts.lockout_failures):
            for index, stored in enumerate(hashes):
                if await ctx.services.hasher.verify(stored, password):
                    matched = index
                    break
    if matched is not None:
        policy = ctx.policy.accounts
        await throttle.forgive(ctx.services.sessions, key, admitted, policy)
        if (address := _address_key(ctx)) is not None:
            wide = throttle.address_policy(policy)
            await throttle.forgive(ctx.services.sessions, address, admitted, wide)
        return matched
    async with ctx.services.sessions() as db:
        state = await throttle.current(db, key)
    if (locked := _lock_of(state, ctx.services.clock.now())) is not None:
        ctx.advise_retry(locked)
        return locked
    return _bad_credentials()


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
    plausible = bool(login_id) and len(login_id) <= MAX_LOGIN_ID and not has_nul(login_id)
    account = None
    if plausible:
        column = model.card_number if model is Patron else model.username  # type: ignore[attr-defined]
        async with ctx.services.sessions() as db:
            found = await db.execute(select(model).where(column == login_id))
            account = found.scalar_one_or_none()
    hashes: tuple[str | None, ...] = (None,)
    if account is not None and usable(account):
        waiting = getattr(account, "pending_password_hash", None)
        hashes = (account.password_hash, waiting) if waiting else (account.password_hash,)
    matched = await _verify_any(ctx, key, hashes, password, plausible=plausible)
    if isinstance(matched, RuleViolation):
        return None, matched
    if isinstance(account, Patron):
        await _settle_reset(ctx, account, used_temporary=matched == 1)
    return account, None


async def _settle_reset(ctx: Context, patron: Patron, *, used_temporary: bool) -> None:
    """A reset's waiting temporary password (AUTH-8) is settled by the first login after
    it: used, it becomes the password (temporary, AUTH-5) and every other session ends;
    the current password used instead voids it."""
    if patron.pending_password_hash is None:
        return
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, patron.id)
        fresh = await db.get(Patron, patron.id, populate_existing=True)
        if fresh is None or fresh.pending_password_hash is None:
            return
        if used_temporary:
            fresh.password_hash = fresh.pending_password_hash
            fresh.password_state = PasswordState.TEMPORARY
            fresh.password_changed_at = ctx.services.clock.now()
            await sessions.end_other_sessions(db, fresh.id, keep_session_id=None)
        fresh.pending_password_hash = None
    patron.password_hash, patron.password_state = fresh.password_hash, fresh.password_state
    patron.pending_password_hash = None


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
    async with ctx.services.sessions() as db:
        patron = await db.get(Patron, viewer.patron_id)
    if patron is None:
        return LoginResult(errors=[RuleViolation(ErrorCode.NOT_FOUND)])
    refusal = await verify_counted(ctx, key, patron.password_hash, current_password)
    if refusal is not None:
        if refusal.code is not ErrorCode.INVALID_CREDENTIALS:
            return LoginResult(errors=[refusal])  # locked, or the address over its limit
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
        fresh.pending_password_hash = None  # a reset still waiting is void
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
