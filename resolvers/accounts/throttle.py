"""Failed-login counting in the database, so every API process sees it (AUTH-11)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import LoginThrottleRow
from policies.accounts import LoginThrottle, after_failure
from policies.config import AccountPolicy
from policies.text import throttle_safe

# One client address can be a whole library's network (or a school's): it gets ten times
# the room a single card or e-mail address gets before it is throttled.
PER_ADDRESS_FACTOR = 10


def address_policy(policy: AccountPolicy) -> AccountPolicy:
    """The limits for one client address: the card's, ten times wider."""
    return replace(policy, lockout_failures=policy.lockout_failures * PER_ADDRESS_FACTOR)


def _state(row: LoginThrottleRow) -> LoginThrottle:
    recent = tuple(datetime.fromisoformat(t) for t in row.recent_failures or [])
    return LoginThrottle(recent=recent, locked_until=row.locked_until)


async def current(db: AsyncSession, key: str) -> LoginThrottle:
    """The throttle for ``key`` as it stands."""
    row = await db.get(LoginThrottleRow, throttle_safe(key))
    if row is None:
        return LoginThrottle()
    return _state(row)


async def record_failure(
    sessions: async_sessionmaker[AsyncSession], key: str, now: datetime, policy: AccountPolicy
) -> LoginThrottle:
    """Count one failure for ``key`` in its own transaction and return the new state.

    Its own transaction because the failure must be counted even though the login writes
    nothing else; the row lock (PostgreSQL) or the write lock (SQLite) keeps concurrent
    failures from being lost.
    """
    key = throttle_safe(key)  # keys carry what clients typed, NUL included
    for _ in range(3):
        try:
            async with sessions() as db, db.begin():
                row = (
                    await db.execute(
                        select(LoginThrottleRow)
                        .where(LoginThrottleRow.key == key)
                        .with_for_update()
                    )
                ).scalar_one_or_none()
                before = LoginThrottle() if row is None else _state(row)
                after = after_failure(before, now, policy)
                if row is None:
                    db.add(
                        LoginThrottleRow(
                            key=key,
                            recent_failures=[t.isoformat() for t in after.recent],
                            locked_until=after.locked_until,
                        )
                    )
                else:
                    row.recent_failures = [t.isoformat() for t in after.recent]
                    row.locked_until = after.locked_until
            return after
        except IntegrityError:  # two first failures raced to insert; count again
            continue
    return after


async def clear(db: AsyncSession, key: str) -> None:
    """Forget failures for ``key`` after a successful login."""
    await db.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == throttle_safe(key)))
