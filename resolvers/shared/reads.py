"""One database session for all of a request's reads (issue [R2 9/9]).

A GraphQL request used to open a session per read: the viewer, the root field and every
loader batch each checked a connection out of the pool, pinged it, began, read, rolled back
and gave it back; five to seven times for one record page. :class:`RequestReads` opens one
session on the first read, keeps its connection for the request, and closes it when the
request ends (``server/graphql.py``).

The connection reads in autocommit: no ``BEGIN``/``ROLLBACK`` around the reads, and each
statement sees what was committed when it ran, which is what the short sessions saw too
(PostgreSQL's READ COMMITTED; SQLite's reads outside a transaction). So a mutation that
commits in its own transaction (they keep theirs, with their locks) is seen by the reads
of its payload that follow it. Nothing is written through it.

GraphQL resolves sibling fields concurrently, and one ``AsyncSession`` must never run two
statements at once: each use holds a lock while it reads. Never await a loader (or
anything else that reads) inside ``async with reads() as db``: the loader's batch would
wait for the lock its caller holds. The session forgets what it loaded after each use
(``expunge_all``), as a closed session did, so a later read returns fresh rows, never an
object an earlier read of the request left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVarTuple

from sqlalchemy import Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.selectable import TypedReturnsRows

Ts = TypeVarTuple("Ts")


class RequestReads:
    """The read session of one request: ``async with reads() as db: ...``; ``close()`` at
    the end of the request gives its connection back to the pool."""

    __slots__ = ("_db", "_lock", "_sessions")

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._db: AsyncSession | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            db = self._db
            if db is None:
                db = self._sessions()
                self._db = db
                try:
                    await db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                except BaseException:
                    self._db = None
                    await db.close()
                    raise
            try:
                yield db
            except BaseException:
                # A failed or cancelled read may leave the connection mid-statement: drop
                # the session (as closing a short session did); the next read opens another.
                self._db = None
                await db.close()
                raise
            db.expunge_all()

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

    async def close(self) -> None:
        """Give the connection back to the pool (the request is over)."""
        db, self._db = self._db, None
        if db is not None:
            await db.close()
