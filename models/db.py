"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine tuned for the database behind ``url``.

    SQLite gets WAL, a busy timeout and enforced foreign keys on every connection;
    PostgreSQL gets a pool with pre-ping so a restarted server is survived (issue [7/8]).
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def lock_row(db: AsyncSession, model: Any, pk: int) -> None:
    """Serialize writers on one row for the rest of ``db``'s transaction.

    PostgreSQL: ``SELECT ... FOR UPDATE`` locks that row. SQLite has no row locks and
    starts its transactions lazily, so a no-op UPDATE takes the database's write lock at
    once; without it, two requests could both read "19 holds" and both insert a 20th.
    """
    if db.get_bind().dialect.name == "sqlite":
        await db.execute(update(model).where(model.id == pk).values(id=model.id))
    else:
        await db.execute(select(model.id).where(model.id == pk).with_for_update())


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
    connection = await (await db.connection()).get_raw_connection()
    driver: Any = connection.driver_connection
    await driver.copy_records_to_table(
        table.name, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
    )
