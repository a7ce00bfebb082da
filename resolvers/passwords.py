"""argon2id hashing, run off the event loop in a bounded thread pool (AUTH-1).

A hash takes tens of milliseconds of CPU; on the event loop it would stall every other
request. ``anyio.to_thread`` with a capacity limiter keeps the loop free and bounds how many
cores a login storm may take.
"""

from __future__ import annotations

import anyio
import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    """Hash and verify passwords with argon2id, never on the event loop."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, threads: int) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._limiter = anyio.CapacityLimiter(threads)
        # Verified against when the card is unknown, so both answers take the same time.
        self._dummy = self._hasher.hash("not-a-real-password")

    async def hash(self, password: str) -> str:
        """A new argon2id hash of ``password``."""
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; a missing hash costs the same and fails."""
        target = stored or self._dummy
        try:
            ok = await anyio.to_thread.run_sync(
                self._hasher.verify, target, password, limiter=self._limiter
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return bool(ok) and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with weaker parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
