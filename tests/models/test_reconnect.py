"""A restarted PostgreSQL is survived without a ping per checkout (issues [7/8], [R2 9/9]).

``models/db.py`` no longer pings a connection each time it leaves the pool: a connection
the server closed is refused at checkout because the driver already knows it is closed,
and the request's reads (``resolvers/shared/reads.py``) run once more on a fresh
connection when theirs died in use. Both are proven here against the real server by
terminating the backend behind a pooled connection, as a restart does. The drills in
``bench/drills.py --only pg-fast pg-immediate`` restart the whole server under load.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.pool import QueuePool

from models.db import _closed_is_dead, create_engine, create_session_factory
from models.driver_reads import DriverSelect
from resolvers.shared.reads import RequestReads
from tests.conftest import PG_ADMIN_URL, _pg_available, _pg_dsn, skip_unless_up

pytestmark = pytest.mark.database


async def _terminate(pid: int) -> None:
    """End one backend from another connection, then let the event loop see the socket
    close (asyncpg marks the connection closed when it reads the end of the stream)."""
    conn = await asyncpg.connect(_pg_dsn(PG_ADMIN_URL), timeout=5)
    try:
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    for _ in range(50):
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def postgres() -> str:
    skip_unless_up(_pg_available())
    return PG_ADMIN_URL


async def test_pool_does_not_ping_on_checkout(postgres: str) -> None:
    engine = create_engine(postgres)
    try:
        assert engine.pool._pre_ping is False  # the round trip this issue removed
    finally:
        await engine.dispose()


async def test_closed_pooled_connection_is_replaced_at_checkout(postgres: str) -> None:
    engine = create_engine(postgres, pool_size=1)
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await _terminate(first)  # the connection sits in the pool, its backend gone
        async with engine.connect() as conn:
            second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first
    finally:
        await engine.dispose()


async def test_a_read_runs_again_when_its_connection_died(postgres: str) -> None:
    """The retry alone: with the checkout check taken off this engine, the dead
    connection reaches the read, which fails once and runs again on a fresh one."""
    engine = create_engine(postgres, pool_size=1)
    event.remove(engine.sync_engine, "checkout", _closed_is_dead)
    reads = RequestReads(create_session_factory(engine))
    try:
        first = (await reads.execute(select(func.pg_backend_pid()))).scalar_one()
        await _terminate(first)  # back in the pool after the read, its backend gone
        second = (await reads.execute(select(func.pg_backend_pid()))).scalar_one()
        assert second != first
    finally:
        await reads.close()
        await engine.dispose()


PID = DriverSelect(select(func.pg_backend_pid()))


async def test_a_driver_read_runs_again_when_its_connection_died(postgres: str) -> None:
    """The loaders' reads go to asyncpg itself (models/driver_reads.py), past
    SQLAlchemy's error handling: a dead connection still costs one retry, not an error,
    and is never handed out again."""
    engine = create_engine(postgres, pool_size=1)
    event.remove(engine.sync_engine, "checkout", _closed_is_dead)
    reads = RequestReads(create_session_factory(engine))
    try:
        [(first,)] = await reads.rows(PID, ())
        await _terminate(first)  # back in the pool after the read, its backend gone
        [(second,)] = await reads.rows(PID, ())
        assert second != first
        [(third,)] = await reads.rows(PID, ())
        assert third == second  # the fresh connection is the pool's now
    finally:
        await reads.close()
        await engine.dispose()


async def test_the_read_session_reads_in_autocommit(postgres: str) -> None:
    """No BEGIN/ROLLBACK around a request's reads: between two statements the connection
    is idle, not idle in a transaction, so it holds no snapshot and no locks."""
    engine = create_engine(postgres, pool_size=1)
    reads = RequestReads(create_session_factory(engine))
    try:
        async with reads() as db:
            pid = (await db.execute(select(func.pg_backend_pid()))).scalar_one()
            conn = await asyncpg.connect(_pg_dsn(PG_ADMIN_URL), timeout=5)
            try:
                state = await conn.fetchval(
                    "SELECT state FROM pg_stat_activity WHERE pid = $1", pid
                )
            finally:
                await conn.close()
        assert state == "idle"
    finally:
        await reads.close()
        await engine.dispose()


async def test_a_request_gives_its_read_connection_back_between_reads(postgres: str) -> None:
    """Held for the whole request, the read connection starved the pool when many requests
    each also needed a transaction of their own (50 concurrent placeHolds, HOLD-2's test
    in tests/circulation/test_concurrency.py): with nothing else queued, it goes back."""
    engine = create_engine(postgres, pool_size=1)
    reads = RequestReads(create_session_factory(engine))
    try:
        await reads.execute(select(func.pg_backend_pid()))
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.checkedout() == 0
    finally:
        await reads.close()
        await engine.dispose()


async def test_a_burst_past_the_pool_size_keeps_its_connections(postgres: str) -> None:
    # Every connection the pool opens is kept for the next burst. With half of them as
    # SQLAlchemy's "overflow", each burst past the pool size closed them on return and
    # opened them again (a TCP connect, an SSL offer refused, a backend forked): under
    # the benchmark's 16 clients, constantly. raw.py's asyncpg pool keeps them all.
    assert await _opened_in_bursts(postgres) == 8


async def test_a_burst_past_the_pool_size_keeps_its_connections_on_sqlite(tmp_path: Path) -> None:
    # The same on a SQLite file: an aiosqlite connection opened again is a new thread,
    # the file opened and every pragma set (WAL, busy timeout, foreign keys). SQLAlchemy's
    # default pool for it keeps 5 and closes the rest on return.
    assert await _opened_in_bursts(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}") == 8


async def _opened_in_bursts(url: str) -> int:
    """Connections ``url``'s engine (``pool_size=4``, an allowance of 8) opens over three
    bursts of 8 at once."""
    engine = create_engine(url, pool_size=4)
    opened: list[int] = []
    event.listen(engine.sync_engine, "connect", lambda *_: opened.append(1))
    try:
        for _ in range(3):
            connections = [await engine.connect() for _ in range(8)]  # the whole allowance
            for conn in connections:
                await conn.execute(text("SELECT 1"))
            for conn in connections:
                await conn.close()
        return len(opened)
    finally:
        await engine.dispose()
