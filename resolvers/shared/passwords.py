"""argon2id hashing, run off the event loop in a bounded pool of low-priority threads (AUTH-1).

A hash takes tens of milliseconds of CPU; on the event loop it would stall every other
request. A pool of ``threads`` threads keeps the loop free and bounds how many cores a login
storm may take. Its threads also run at a lower CPU priority (``HASH_NICENESS``; Linux
keeps a nice value per thread): when the cores are busy, the scheduler serves the event
loop, so searches keep their latency during a login storm and logins queue instead
(bench/README.md, "API"). On an idle machine a hash runs as fast as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASH_NICENESS = 10
"""How much lower the hashing threads' priority is (0-19; 10 weighs a tenth of normal)."""
T = TypeVar("T")


def _lower_priority(niceness: int) -> None:
    # Runs in each new hashing thread. Where per-thread priority is not available (not
    # Linux) or not allowed, hashing simply keeps the normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


@functools.cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    """A hash of a password no one has, at the given cost: made once per process and cost
    (each app made it again, 60 ms, and the test suite makes an app per test)."""
    hasher = argon2.PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=argon2.Type.ID
    )
    return hasher.hash("not-a-real-password")


class PasswordHasher:
    """Hash and verify passwords with argon2id, never on the event loop."""

    def __init__(
        self,
        *,
        time_cost: int,
        memory_kib: int,
        parallelism: int,
        threads: int,
        niceness: int | None = None,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=threads,
            thread_name_prefix="argon2",
            initializer=_lower_priority,
            initargs=(HASH_NICENESS if niceness is None else niceness,),
        )
        # Verified against when the card is unknown, so both answers take the same time.
        self._dummy = _dummy_hash(time_cost, memory_kib, parallelism)

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def hash(self, password: str) -> str:
        """A new argon2id hash of ``password``."""
        return await self._run(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; a missing hash costs the same and fails."""
        target = stored or self._dummy
        try:
            ok = await self._run(self._hasher.verify, target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return bool(ok) and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with weaker parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
