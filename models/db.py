"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import BindParameter, Table, bindparam, event, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

from models.driver_reads import KEYS, DriverSelect, fetch_in, in_transaction
from models.driver_writes import DriverWrite


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    statement_timeout_ms: int | None = None,
    connect_timeout: float = 5.0,
) -> AsyncEngine:
    """An async engine tuned for the database behind ``url``.

    SQLite gets WAL, a busy timeout and enforced foreign keys on every connection;
    PostgreSQL gets a pool that survives a restarted server (issue [7/8]) without a ping
    per checkout (issue [R2 9/9]: ``pool_pre_ping`` cost a round trip and ~6 % of the API's
    CPU): a connection the server closed is known closed by the driver and replaced at
    checkout (:func:`_closed_is_dead`), a connection older than ``POOL_RECYCLE_SECONDS``
    is replaced (one a firewall silently dropped), and the request's reads retry once on a
    connection that died in use (``resolvers/shared/reads.py``); a write that meets one
    fails ``SERVICE_UNAVAILABLE`` and the client retries. It also gets a connect timeout so
    an unreachable server fails fast instead of holding requests, and, for the API, a
    server-side ``statement_timeout`` so a runaway statement is cancelled by PostgreSQL and
    its transaction rolled back cleanly. Imports and maintenance commands pass no
    statement timeout.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    # Up to 2 x pool_size connections, all kept once opened: "overflow" ones were closed on
    # return and opened again at the next burst (tests/models/test_reconnect.py).
    kept = {"pool_size": 2 * pool_size, "max_overflow": 0, "pool_timeout": 10}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(kept)  # an in-memory database has one connection, not a pool
        kwargs["connect_args"] = {"timeout": 30}
        kwargs["pool_reset_on_return"] = None  # _sqlite_reset instead
    else:
        kwargs.update(kept, pool_recycle=POOL_RECYCLE_SECONDS)
        connect_args: dict[str, Any] = {"timeout": connect_timeout}
        if statement_timeout_ms:
            connect_args["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
        kwargs["connect_args"] = connect_args
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "reset", _sqlite_reset)
    else:
        event.listen(engine.sync_engine, "checkout", _closed_is_dead)
    return engine


# A pooled connection older than this is closed and replaced at its next checkout: it
# bounds how long a connection a firewall or proxy dropped without a word can linger.
POOL_RECYCLE_SECONDS = 1800


def _closed_is_dead(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed (a restart, a terminated backend):
    asyncpg saw the socket close while the connection sat in the pool, so this costs no
    round trip. The pool then drops it and checks out another (SQLAlchemy retries a
    checkout that raises ``DisconnectionError``), and a connection it opens is fresh."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise sa_exc.DisconnectionError("the server closed this pooled connection")


# The driver errors that mean "the server is not there right now" (asyncpg's names).
_ASYNCPG_UNAVAILABLE = frozenset(
    {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
    }
)


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the database could not be reached or was too busy (retry
    later), as opposed to a bug: a refused or timed-out connect, a connection the server
    dropped (restart, failover), an exhausted pool, SQLite's "database is locked"."""
    for link in _chain(exc):
        if isinstance(link, ConnectionError | TimeoutError | sa_exc.TimeoutError):
            return True
        if isinstance(link, sa_exc.DBAPIError) and link.connection_invalidated:
            return True
        name = type(link).__name__
        if type(link).__module__.startswith("asyncpg") and name in _ASYNCPG_UNAVAILABLE:
            return True
        # asyncpg's own word for a connection whose server end is gone, when the driver
        # is used directly (models/driver_reads.py) and SQLAlchemy has not wrapped it.
        if name == "InterfaceError" and "connection is closed" in str(link):
            return True
        if isinstance(link, sqlite3.OperationalError) and (
            "locked" in str(link) or "busy" in str(link)
        ):
            return True
    return False


def is_statement_timeout(exc: BaseException | None) -> bool:
    """Whether PostgreSQL cancelled a statement for running past ``statement_timeout``."""
    return any(
        type(link).__name__ == "QueryCanceledError" or getattr(link, "sqlstate", None) == "57014"
        for link in _chain(exc)
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """The pool's rollback of a connection given back, only when it is in a transaction.

    Each call on an aiosqlite connection is a trip to its thread, and most connections
    come back with nothing to roll back: a request's reads, or a session that committed
    or rolled back itself (SQLAlchemy's connection ends its own transaction at close)."""
    if not state.terminate_only and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def lock_row(db: AsyncSession, model: Any, pk: int) -> None:
    """Serialize writers on one row for the rest of ``db``'s transaction.

    PostgreSQL: ``SELECT ... FOR UPDATE`` locks that row. SQLite has no row locks and
    starts its transactions lazily, so a no-op UPDATE takes the database's write lock at
    once; without it, two requests could both read "19 holds" and both insert a 20th.
    The driver sends it inside the transaction (every mutation locks a row first: through
    the ORM session the lock cost more CPU than the rest of a refused renewal's reads).
    """
    if db.get_bind().dialect.name == "sqlite":
        await _sqlite_lock(model).run(db, lock_pk=pk)
    else:
        await fetch_in(db, _row_lock(model), [pk])


@functools.cache
def _row_lock(model: Any) -> DriverSelect:
    """``model``'s row by id, locked (PostgreSQL), built once."""
    return DriverSelect(select(model.id).where(model.id.in_(KEYS)).with_for_update())


@functools.cache
def _sqlite_lock(model: Any) -> DriverWrite:
    """SQLite's write lock taken by an UPDATE of ``model``'s row that changes nothing."""
    pk: BindParameter[int] = bindparam("lock_pk")
    return DriverWrite(update(model).where(model.id == pk).values(id=model.id))


async def bulk_insert(db: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of plain values (every row with the same keys) in ``db``'s
    transaction. PostgreSQL takes them by ``COPY``, which costs a fraction of an
    ``INSERT``'s client-side work per row; SQLite by an ``executemany``.

    Values go to the driver as they are, so give enums as their ``.value`` and instants
    as aware datetimes.
    """
    if not rows:
        return
    if db.get_bind().dialect.name != "postgresql":
        await db.execute(insert(table), rows)
        return
    columns = list(rows[0])
    # Inside the transaction (``in_transaction``): a COPY sent first would commit alone.
    driver: Any = await in_transaction(await db.connection())
    await driver.copy_records_to_table(
        table.name, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
    )
