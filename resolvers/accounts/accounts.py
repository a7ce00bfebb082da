"""Logging in and out, changing the password, and the viewer's own account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select

from models import Patron, StaffUser
from models.db import lock_row
from policies.accounts import (
    PASSWORD_MAX,
    PasswordProblem,
    can_log_in,
    check_new_password,
)
from policies.enums import PasswordState
from policies.errors import ErrorCode, RuleViolation
from policies.text import has_nul
from resolvers.accounts import sessions, throttle, verification
from resolvers.shared.context import Context, PatronViewer, StaffViewer

MAX_LOGIN_ID = 50


@dataclass(slots=True)
class LoginResult:
    """What a login attempt came to: a session token and its owner, or errors."""

    token: str | None = None
    patron: Patron | None = None
    staff: StaffUser | None = None
    errors: list[RuleViolation] = field(default_factory=list)


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
    account: Account | None = None

    async def hashes() -> tuple[str | None, ...]:
        nonlocal account
        if plausible:
            column = model.card_number if model is Patron else model.username  # type: ignore[attr-defined, comparison-overlap]
            async with ctx.services.sessions() as db:
                found = await db.execute(select(model).where(column == login_id))
                account = found.scalar_one_or_none()
        if account is None or not usable(account):
            return (None,)
        waiting = getattr(account, "pending_password_hash", None)
        return (account.password_hash, waiting) if waiting else (account.password_hash,)

    # Counted first, then looked up: a storm at one card queues at its count, not at the pool.
    matched = await verification.verify_any(ctx, key, hashes, password, plausible=plausible)
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
        return LoginResult(errors=[error or verification.bad_credentials()])
    return LoginResult(token=await _start_session(ctx, patron, key, password), patron=patron)


async def staff_login(ctx: Context, username: str, password: str) -> LoginResult:
    """Staff sign in with their own accounts, never a patron's (STAFF-1)."""
    username = username.strip()
    key = f"staff:{username[:MAX_LOGIN_ID]}"
    staff, error = await _authenticate(ctx, StaffUser, key, username, password, lambda s: s.active)
    if error is not None or staff is None:
        return LoginResult(errors=[error or verification.bad_credentials()])
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
    refusal = await verification.verify_counted(ctx, key, patron.password_hash, current_password)
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
            phone=patron.phone,
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
