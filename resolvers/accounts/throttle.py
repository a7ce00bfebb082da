"""Failed-login counting in the database, so every API process sees it (AUTH-11).

An attempt is counted *before* its password is verified (:func:`admit`), in its own
committed transaction under the key's row lock: of any number of concurrent attempts, in
any number of processes, at most the lockout's number are verified; the rest are refused
unhashed. A success takes its own attempt back (:func:`clear`, :func:`forgive`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import LoginThrottleRow
from policies.accounts import LoginThrottle, after_failure, locked_for
from policies.config import AccountPolicy
from policies.text import throttle_safe

# One client address can be a whole library's network (or a school's): it gets ten times
# the room a single card or e-mail address gets before it is throttled.
PER_ADDRESS_FACTOR = 10
# The key column's width. Keys carry what clients typed (a card number, an address); a
# longer one is stored as its kind and a SHA-256, so it is still counted (never an error).
KEY_WIDTH = 80


def address_policy(policy: AccountPolicy) -> AccountPolicy:
    """The limits for one client address: the card's, ten times wider."""
    return replace(policy, lockout_failures=policy.lockout_failures * PER_ADDRESS_FACTOR)


def db_key(key: str) -> str:
    """``key`` as stored: NUL made storable, and at most :data:`KEY_WIDTH` characters."""
    key = throttle_safe(key)  # keys carry what clients typed, NUL included
    if len(key) <= KEY_WIDTH:
        return key
    kind = key.partition(":")[0][:12]
    return f"{kind}:#{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _state(row: LoginThrottleRow) -> LoginThrottle:
    recent = tuple(datetime.fromisoformat(t) for t in row.recent_failures or [])
    return LoginThrottle(recent=recent, locked_until=row.locked_until)


async def current(db: AsyncSession, key: str) -> LoginThrottle:
    """The throttle for ``key`` as it stands."""
    row = await db.get(LoginThrottleRow, db_key(key))
    if row is None:
        return LoginThrottle()
    return _state(row)


async def _locked_row(db: AsyncSession, key: str) -> LoginThrottleRow | None:
    """The row of ``key`` under a write lock held to the end of ``db``'s transaction.

    PostgreSQL locks the row (``FOR UPDATE``). SQLite starts transactions lazily and a
    SELECT takes no write lock, so two requests could read the same count and both write
    it back (a lost attempt): a no-op UPDATE first takes the database's write lock."""
    if db.get_bind().dialect.name == "sqlite":
        await db.execute(
            update(LoginThrottleRow).where(LoginThrottleRow.key == key).values(key=key)
        )
    return (
        await db.execute(
            select(LoginThrottleRow).where(LoginThrottleRow.key == key).with_for_update()
        )
    ).scalar_one_or_none()


async def record_failure(
    sessions: async_sessionmaker[AsyncSession], key: str, now: datetime, policy: AccountPolicy
) -> LoginThrottle:
    """Count one failure for ``key`` in its own committed transaction; the new state."""
    return (await admit(sessions, key, now, policy, unless_locked=False))[1]


async def admit(
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    now: datetime,
    policy: AccountPolicy,
    *,
    unless_locked: bool = True,
) -> tuple[bool, LoginThrottle]:
    """Count one attempt for ``key`` in its own committed transaction, before it is tried:
    whether it was counted (``False``: the key was already locked, and a refused attempt
    does not stretch the lock) and the state after it."""
    key = db_key(key)
    counted = False
    for _ in range(3):
        try:
            async with _AT_ROW.hold(key, 1), sessions() as db, db.begin():
                row = await _locked_row(db, key)
                before = LoginThrottle() if row is None else _state(row)
                if unless_locked and locked_for(before, now) is not None:
                    return False, before
                after = after_failure(before, now, policy)
                stamps = [t.isoformat() for t in after.recent]
                if row is None:
                    db.add(
                        LoginThrottleRow(
                            key=key, recent_failures=stamps, locked_until=after.locked_until
                        )
                    )
                else:
                    row.recent_failures = stamps
                    row.locked_until = after.locked_until
            return True, after
        except IntegrityError:  # two first failures raced to insert; count again
            continue
    return counted, after


async def forgive(
    sessions: async_sessionmaker[AsyncSession], key: str, at: datetime, policy: AccountPolicy
) -> None:
    """Take back one attempt counted at ``at``: it succeeded. A lock that attempt set
    (the count is below the limit without it) goes with it."""
    key = db_key(key)
    async with _AT_ROW.hold(key, 1), sessions() as db, db.begin():
        row = await _locked_row(db, key)
        if row is None:
            return
        stamps = list(row.recent_failures or [])
        if at.isoformat() in stamps:
            stamps.remove(at.isoformat())
            row.recent_failures = stamps
            if len(stamps) < policy.lockout_failures:
                row.locked_until = None


async def clear(db: AsyncSession, key: str) -> None:
    """Forget failures for ``key`` after a successful login."""
    await db.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == db_key(key)))


@dataclass
class KeyedLimiter:
    """At most a limit of holders per key at a time, in this process: a second bound, next
    to the database count, on how many verifications one card's attempts may run at once.
    A key's semaphore lives only while someone holds or waits for it."""

    _held: dict[str, tuple[asyncio.Semaphore, int]] = field(default_factory=dict)

    @asynccontextmanager
    async def hold(self, key: str, limit: int) -> AsyncIterator[None]:
        """Wait for one of ``key``'s ``limit`` places, and keep it for the ``async with``."""
        semaphore, users = self._held.get(key) or (asyncio.Semaphore(limit), 0)
        self._held[key] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._held[key]
            if users <= 1:
                del self._held[key]
            else:
                self._held[key] = (semaphore, users - 1)


# One transaction per key at a time in this process at the key's throttle row: a storm
# of attempts at one card waits here, in memory, instead of each holding a pooled
# connection while it waits on the row lock (which starved every other request of the
# pool). Across processes the row lock still orders them.
_AT_ROW = KeyedLimiter()
