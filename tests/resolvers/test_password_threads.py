"""argon2id runs in a bounded pool of low-priority threads, never on the event loop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

import pytest

from resolvers.shared.passwords import HASH_NICENESS, PasswordHasher


def _hasher(threads: int) -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_kib=8, parallelism=1, threads=threads)


async def test_hashing_runs_off_the_event_loop_and_verifies() -> None:
    # AUTH-1: the hash is made and checked in a hashing thread, not the loop's.
    hasher = _hasher(2)
    stored = await hasher.hash("yomu2468")
    assert await hasher.verify(stored, "yomu2468")
    assert not await hasher.verify(stored, "yomu2469")
    assert not await hasher.verify(None, "yomu2468")  # unknown card: same work, refused
    name = await hasher._run(lambda: threading.current_thread().name)
    assert name.startswith("argon2") and name != threading.current_thread().name


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
