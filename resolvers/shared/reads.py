"""One database session for a request's reads (issue [R2 9/9]).

A GraphQL request used to open a session per read: the viewer, the root field and every
loader batch each checked a connection out of the pool, pinged it, began, read, rolled back
and gave it back; five to seven times for one record page. :class:`RequestReads` is the
request's one read session: the reads that run together (the batches of sibling fields)
share one connection, checked out once, and it goes back to the pool as soon as no read of
the request is waiting for it. A request must never hold a read connection while it waits
for another (a mutation's transaction): fifty concurrent ``placeHolds`` holding theirs for
the whole request emptied the pool and each waited for a second connection for ever
(tests/circulation/test_concurrency.py found it).

The connection reads in autocommit: no ``BEGIN``/``ROLLBACK`` around the reads, and each
statement sees what was committed when it ran, which is what the short sessions saw too
(PostgreSQL's READ COMMITTED; on SQLite every read is outside a transaction as it is). So
a mutation that commits in its own transaction (they keep theirs, with their locks) is
seen by the reads of its payload that follow it. Nothing is written through it.

GraphQL resolves sibling fields concurrently, and one ``AsyncSession`` must never run two
statements at once: each use holds a lock while it reads. Never await a loader (or
anything else that reads) inside ``async with reads() as db``: the loader's batch would
wait for the lock its caller holds. The session forgets what it loaded after each use
(``expunge_all``), as a closed session did, so a later read returns fresh rows, never an
object an earlier read of the request left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVarTuple

from sqlalchemy import Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.sql.selectable import TypedReturnsRows

from models.db import is_unavailable
from models.driver_reads import DriverSelect

Ts = TypeVarTuple("Ts")


class RequestReads:
    """The read session of one request: ``async with reads() as db: ...``; ``close()`` at
    the end of the request gives its connection back to the pool.

    The connection is checked out on its own; an ``AsyncSession`` is bound to it only when
    an ORM read asks for one (``__call__``). Most reads are the driver's own
    (:meth:`rows`), and a session opened and closed around each burst of them cost more
    than the reads."""

    __slots__ = ("_conn", "_db", "_driver", "_lock", "_sessions", "_waiting")

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._conn: AsyncConnection | None = None
        self._driver: Any = None  # the driver's own connection under ``_conn``
        self._db: AsyncSession | None = None  # bound to ``_conn`` when an ORM read needs it
        self._lock = asyncio.Lock()
        self._waiting = 0  # reads of this request queued for the lock

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[AsyncConnection]:
        """The request's connection, one use at a time; back to the pool after a use
        when no read of the request is queued, dropped after a use that failed."""
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            conn = self._conn if self._conn is not None else await self._open()
            try:
                yield conn
            except BaseException:
                # A failed or cancelled read may leave the connection mid-statement: drop
                # it; the next read checks out another.
                await self.close()
                raise
            if self._db is not None:
                self._db.expunge_all()
            if not self._waiting:  # no read of the request queued: the connection goes back
                await self.close()
        finally:
            self._lock.release()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self._held() as conn:
            if self._db is None:
                self._db = self._sessions(bind=conn)
            yield self._db

    async def _open(self) -> AsyncConnection:
        engine = self._sessions.kw["bind"]
        conn: AsyncConnection = await engine.connect()
        try:
            if conn.dialect.name != "sqlite":
                # SQLite reads outside a transaction already (the driver begins one only
                # before a write); switching its isolation level, and back at checkin, was
                # four trips to aiosqlite's thread a connection, most of a read's CPU.
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            self._driver = (await conn.get_raw_connection()).driver_connection
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        return conn

    async def execute(self, stmt: TypedReturnsRows[*Ts]) -> Result[*Ts]:
        """``stmt``'s rows (fetched in full), read once more on a fresh connection when
        the one it had turned out dead (the pool no longer pings at checkout,
        ``models/db.py``): a read can be repeated safely, and the failure has already
        made the pool drop the connections of before the server went away."""
        for attempt in range(2):
            try:
                async with self() as db:
                    return await db.execute(stmt)
            except DBAPIError as failed:
                if attempt or not failed.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def rows(self, query: DriverSelect, keys: Sequence[Any]) -> list[Any]:
        """``query``'s rows for ``keys``, read by the driver itself on the request's
        connection (:mod:`models.driver_reads`); once more on a fresh connection when the
        one it had turned out dead, as :meth:`execute` does."""
        for attempt in range(2):
            try:
                async with self._held() as conn:
                    try:
                        return await query.fetch(conn, keys, self._driver)
                    except Exception as failed:
                        if is_unavailable(failed):  # the pool must not hand it out again
                            await conn.invalidate()
                        raise
            except Exception as failed:
                if attempt or not is_unavailable(failed):
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Give the connection back to the pool (also when the request is over)."""
        db, conn = self._db, self._conn
        self._db, self._conn, self._driver = None, None, None
        try:
            if db is not None:
                await db.close()
        finally:
            if conn is not None:
                await conn.close()
