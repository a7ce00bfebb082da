"""argon2id runs in a bounded pool of low-priority threads, never on the event loop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

import argon2
import pytest

from resolvers.shared.passwords import HASH_NICENESS, PasswordHasher


def _hasher(threads: int) -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_kib=8, parallelism=1, threads=threads)


class _Watched:
    """The real argon2 hasher, noting the thread each hash and verification runs in."""

    def __init__(self, real: argon2.PasswordHasher) -> None:
        self.real = real
        self.threads: list[str] = []

    def hash(self, password: str) -> str:
        self.threads.append(threading.current_thread().name)
        return self.real.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        self.threads.append(threading.current_thread().name)
        return self.real.verify(stored, password)

    def check_needs_rehash(self, stored: str) -> bool:
        return self.real.check_needs_rehash(stored)


async def test_hashing_runs_off_the_event_loop_and_verifies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # AUTH-1: every argon2 call (hash, verify, the unknown card's dummy) runs in a hashing
    # thread, never in the loop's: the calls themselves say where they ran.
    hasher = _hasher(2)
    watched = _Watched(hasher._hasher)
    monkeypatch.setattr(hasher, "_hasher", watched)
    stored = await hasher.hash("yomu2468")
    assert await hasher.verify(stored, "yomu2468")
    assert not await hasher.verify(stored, "yomu2469")
    assert not await hasher.verify(None, "yomu2468")  # unknown card: same work, refused
    loop_thread = threading.current_thread().name
    assert len(watched.threads) == 4
    assert all(t.startswith("argon2") and t != loop_thread for t in watched.threads), (
        watched.threads
    )


async def test_the_loop_keeps_turning_while_hashes_run() -> None:
    # AUTH-1: while a batch of hashes runs, a ticker task on the same loop keeps getting
    # turns. Counted in turns, not timed: on the loop, a hash would hold it for its whole
    # run and the ticker would get about one turn per hash.
    hasher = PasswordHasher(time_cost=2, memory_kib=19456, parallelism=1, threads=2)
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0)

    turning = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    stored = await asyncio.gather(*(hasher.hash(f"yomu{n}") for n in range(6)))
    await asyncio.gather(*(hasher.verify(h, "x") for h in stored))
    during = ticks - before
    done = True
    await turning
    assert during > 12 * 20, during  # twenty turns per hash at the very least


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
async def test_hashing_threads_run_at_a_lower_priority() -> None:
    # AUTH-1: a login storm yields the cores to other requests (bench/README.md, "API").
    hasher = _hasher(1)
    tid = await hasher._run(threading.get_native_id)
    assert os.getpriority(os.PRIO_PROCESS, tid) >= HASH_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < HASH_NICENESS


async def test_at_most_threads_hashes_at_once() -> None:
    # AUTH-1: the pool bounds how many cores hashing may take.
    def busy() -> int:
        time.sleep(0.05)  # long enough for the four calls to overlap
        return threading.get_native_id()

    one, two = _hasher(1), _hasher(2)
    assert len(set(await asyncio.gather(*(one._run(busy) for _ in range(4))))) == 1
    assert len(set(await asyncio.gather(*(two._run(busy) for _ in range(4))))) == 2
