"""Counted password verification (AUTH-11): every attempt at a card's or staff user's
password — a login, or the current password asked before a sensitive change (AUTH-7,
PREF-2) — is counted in the database before it is hashed, so a burst of parallel attempts,
in however many processes, verifies no more than the lockout allows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from policies.accounts import LoginThrottle, check_not_locked
from policies.errors import ErrorCode, RuleViolation
from resolvers.accounts import throttle
from resolvers.shared.context import Context

# Anything longer is not a password we could have issued; refuse without hashing it, so a
# megabyte "password" costs nothing.
MAX_LOGIN_SECRET = 128


def bad_credentials() -> RuleViolation:
    return RuleViolation(ErrorCode.INVALID_CREDENTIALS, "AUTH-1")


def address_key(ctx: Context) -> str | None:
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
    if (address := address_key(ctx)) is not None:
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

    async def hashes() -> tuple[str | None, ...]:
        return (stored,)

    matched = await verify_any(ctx, key, hashes, password, plausible=plausible)
    return matched if isinstance(matched, RuleViolation) else None


async def verify_any(
    ctx: Context,
    key: str,
    hashes: Callable[[], Awaitable[tuple[str | None, ...]]],
    password: str,
    *,
    plausible: bool = True,
) -> int | RuleViolation:
    """:func:`verify_counted` against each of the hashes that ``hashes`` reads (the current
    password, then a reset's waiting one): the index of the one that matched, or the
    refusal. ``hashes`` is read only once the attempt is counted, so a refused attempt (a
    locked card, a busy address) costs no lookup either."""
    admitted = await _admit(ctx, key)
    if isinstance(admitted, RuleViolation):
        return admitted
    stored_hashes = await hashes()
    matched: int | None = None
    if plausible and len(password) <= MAX_LOGIN_SECRET:
        async with _VERIFYING.hold(throttle.db_key(key), ctx.policy.accounts.lockout_failures):
            for index, stored in enumerate(stored_hashes):
                if await ctx.services.hasher.verify(stored, password):
                    matched = index
                    break
    if matched is not None:
        policy = ctx.policy.accounts
        await throttle.forgive(ctx.services.sessions, key, admitted, policy)
        if (address := address_key(ctx)) is not None:
            wide = throttle.address_policy(policy)
            await throttle.forgive(ctx.services.sessions, address, admitted, wide)
        return matched
    async with ctx.services.sessions() as db:
        state = await throttle.current(db, key)
    if (locked := _lock_of(state, ctx.services.clock.now())) is not None:
        ctx.advise_retry(locked)
        return locked
    return bad_credentials()
