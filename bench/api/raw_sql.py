"""The one place where raw.py and raw_holds.py differ by database: a pool of connections
that answer ``fetch``, ``fetchrow``, ``fetchval``, ``execute``, ``executemany`` and
``transaction()`` as asyncpg's do, for PostgreSQL (asyncpg itself) or SQLite (aiosqlite).

The endpoints write their SQL once, in PostgreSQL's terms; on SQLite a statement is sent
as the API's SQLAlchemy sends it there (``models/db.py``, ``resolvers/shared/id_lists.py``):

- ``$n`` becomes ``?``, and ``= ANY($n)`` (a list) an ``IN (?, ?, ...)`` of its values;
- ``... FROM t WHERE id = $n FOR UPDATE`` is preceded by the no-op ``UPDATE`` that takes
  SQLite's write lock (``models.db.lock_row``) and sent without ``FOR UPDATE``;
- a statement SQLite cannot say at all is given its SQLite text where it is written
  (:func:`sqlite_form`);
- instants are bound and read as SQLAlchemy's ``UTCDateTime`` stores them (naive UTC
  text, read back aware), days as ISO text, booleans as 0/1 read back as ``bool``: the
  columns' declared types pick the conversion (``detect_types``), as the API's result
  processors do;
- a transaction begins at its first write, as the API's aiosqlite connection begins
  one, and a write outside a transaction is committed at once (asyncpg's autocommit).

Each connection reports its statements to ``on_statement`` (launch.py's counter), not
the transaction control, as the API's count through SQLAlchemy sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg
from sqlalchemy.engine import make_url

# Transaction control and the pool's reset (``Connection.reset``): not counted.
NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SELECT PG_ADVISORY_UNLOCK_ALL", "CLOSE ALL", "RESET")
# models/db.py's pragmas for every SQLite connection of the API.
PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
)
CONNECT_TIMEOUT = 30  # models/db.py's connect_args for SQLite
# PostgreSQL text -> SQLite text, for the statements SQLite cannot say as written.
SQLITE_FORMS: dict[str, str] = {}

Counter = Callable[[], None]


def sqlite_form(postgresql: str, sqlite: str) -> str:
    """``postgresql``, which the SQLite connections send as ``sqlite`` (written in the same
    ``$n`` terms): the one statement pair stands where the statement is defined."""
    SQLITE_FORMS[postgresql] = sqlite
    return postgresql


class Pool(Protocol):
    """What the endpoints ask of a pool: a connection per request, then closing."""

    def acquire(self) -> Any: ...

    async def close(self) -> None: ...


async def open_pool(url: str, max_size: int, on_statement: Counter | None) -> Pool:
    """A pool of up to ``max_size`` connections to ``url`` (SQLAlchemy's form of it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SqlitePool(parsed.database or "", max_size, on_statement)
    pool: Pool = await asyncpg.create_pool(
        url.replace("postgresql+asyncpg://", "postgresql://"),
        min_size=1,
        max_size=max_size,
        init=_pg_counter(on_statement) if on_statement else None,
    )
    return pool


def _pg_counter(count: Counter) -> Callable[[Any], Any]:
    """Report each statement the endpoints send, as launch.py counts SQLAlchemy's: not the
    transaction control nor the pool's reset of a released connection, which SQLAlchemy's
    count does not see either. Only for a counting run (a logger costs a callback per
    statement)."""

    async def init(conn: Any) -> None:
        def seen(query: Any) -> None:
            if not str(query.query).lstrip().upper().startswith(NOT_COUNTED):
                count()

        conn.add_query_logger(seen)

    return init


# --- SQLite ------------------------------------------------------------------------------

_PARAM = re.compile(r"= ANY\(\$(\d+)\)|\$(\d+)")
_LOCKED = re.compile(r"^SELECT (.+?) FROM (\w+) WHERE id = \$(\d+) FOR UPDATE$", re.S)


@dataclass(frozen=True, slots=True)
class _Statement:
    """A PostgreSQL statement in SQLite's terms: its text around the parameters, and for
    each parameter the argument it takes and whether that is a list to spread."""

    texts: tuple[str, ...]
    slots: tuple[tuple[int, bool], ...]
    lock: _Statement | None  # the write lock to take first (``FOR UPDATE``)

    def render(self, args: Sequence[Any]) -> tuple[str, list[Any]]:
        """The SQL and its flat parameters for ``args``."""
        if not any(spread for _, spread in self.slots):
            return self.texts[0] if not self.slots else "?".join(self.texts), [
                args[i] for i, _ in self.slots
            ]
        parts, params = [self.texts[0]], []
        for (i, spread), text in zip(self.slots, self.texts[1:], strict=True):
            if spread:
                values = list(args[i])
                parts.append("IN (" + ", ".join("?" * len(values)) + ")")
                params += values
            else:
                parts.append("?")
                params.append(args[i])
            parts.append(text)
        return "".join(parts), params


@functools.cache
def _translate(sql: str) -> _Statement:
    sql = SQLITE_FORMS.get(sql, sql).strip()
    lock = None
    if "FOR UPDATE" in sql:
        found = _LOCKED.match(sql)
        if found is None:
            raise ValueError(f"no SQLite form of {sql!r}")
        columns, table, number = found.groups()
        # models.db._lock_statement as SQLite compiles it: changes nothing, takes the lock.
        update = f"UPDATE {table} SET id={table}.id WHERE {table}.id = ${number}"  # noqa: S608
        if columns == "id":  # lock_row's PostgreSQL form: on SQLite the UPDATE alone
            return _translate(update)
        lock, sql = _translate(update), sql[: sql.rindex("FOR UPDATE")].rstrip()
    texts, slots, start = [], [], 0
    for match in _PARAM.finditer(sql):
        spread = match.group(1) is not None
        texts.append(sql[start : match.start()])
        slots.append((int(match.group(1) or match.group(2)) - 1, spread))
        start = match.end()
    texts.append(sql[start:])
    return _Statement(tuple(texts), tuple(slots), lock)


def _instant(value: datetime) -> str:
    """An aware instant as ``UTCDateTime`` stores it on SQLite (SQLAlchemy's format)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given for an instant")  # as UTCDateTime refuses
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _register_types() -> None:
    """Bind and read values as the API's column types do on SQLite. The converters are
    sqlite3's own (process-wide, by declared type name), so only connections opened
    with ``detect_types`` (this pool's) use them."""
    sqlite3.register_adapter(datetime, _instant)
    sqlite3.register_adapter(date, date.isoformat)
    sqlite3.register_converter(
        "DATETIME", lambda raw: datetime.fromisoformat(raw.decode()).replace(tzinfo=UTC)
    )
    sqlite3.register_converter("DATE", lambda raw: date.fromisoformat(raw.decode()))
    sqlite3.register_converter("BOOLEAN", lambda raw: raw not in (b"0", b""))


class SqliteConnection:
    """One aiosqlite connection with asyncpg's methods, the statements in SQLite's terms."""

    def __init__(self, conn: aiosqlite.Connection, on_statement: Counter | None) -> None:
        self.conn = conn
        self.on_statement = on_statement
        self.in_transaction = False

    async def _run(self, statement: _Statement, args: Sequence[Any]) -> Iterable[Any]:
        if statement.lock is not None:
            await self._run(statement.lock, args)
        sql, params = statement.render(args)
        if self.on_statement is not None:
            self.on_statement()
        rows = await self.conn.execute_fetchall(sql, params)  # one trip to its thread
        if not self.in_transaction and self.conn.in_transaction:
            await self.conn.commit()  # a write outside a transaction: committed at once
        return rows

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """Every row of ``sql``."""
        return list(await self._run(_translate(sql), args))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        """The first row of ``sql``, or ``None``."""
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first column of the first row of ``sql``, or ``None``."""
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]

    async def execute(self, sql: str, *args: Any) -> None:
        """Run ``sql``."""
        await self._run(_translate(sql), args)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        """Run ``sql`` once per argument tuple, as one statement (as SQLAlchemy and asyncpg
        count an executemany)."""
        statement = _translate(sql)
        if statement.lock is not None or any(spread for _, spread in statement.slots):
            raise ValueError(f"executemany of {sql!r}: no lock or list parameter")
        rendered = [statement.render(one) for one in args]
        if not rendered:
            return
        if self.on_statement is not None:
            self.on_statement()
        await self.conn.executemany(rendered[0][0], [params for _, params in rendered])
        if not self.in_transaction and self.conn.in_transaction:
            await self.conn.commit()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Commit what the block wrote, or roll it back if it raised. SQLite's
        transaction itself begins at the block's first write (the driver's deferred
        ``BEGIN``), as the API's does."""
        self.in_transaction = True
        try:
            yield
        except BaseException:
            await self.conn.rollback()
            raise
        else:
            await self.conn.commit()
        finally:
            self.in_transaction = False


class SqlitePool:
    """Up to ``max_size`` connections to one SQLite file, each opened on first need with
    the API's pragmas and kept for the server's life."""

    def __init__(self, path: str, max_size: int, on_statement: Counter | None) -> None:
        self.path = path
        self.max_size = max_size
        self.on_statement = on_statement
        self.opened: list[SqliteConnection] = []
        self.opening = 0  # connections being opened, counted against max_size
        self.idle: asyncio.Queue[SqliteConnection] = asyncio.Queue()
        _register_types()

    async def _open(self) -> SqliteConnection:
        conn = await aiosqlite.connect(
            self.path, timeout=CONNECT_TIMEOUT, detect_types=sqlite3.PARSE_DECLTYPES
        )
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        return SqliteConnection(conn, self.on_statement)

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[SqliteConnection]:
        """A connection for the block: an idle one, a new one while under ``max_size``,
        or the next one released."""
        if not self.idle.empty() or len(self.opened) + self.opening >= self.max_size:
            conn = await self.idle.get()
        else:
            self.opening += 1
            try:
                conn = await self._open()
            finally:
                self.opening -= 1
            self.opened.append(conn)
        try:
            yield conn
        finally:
            if conn.conn.in_transaction:  # a write that failed outside a transaction
                await conn.conn.rollback()
            self.idle.put_nowait(conn)

    async def close(self) -> None:
        """Close every connection."""
        for conn in self.opened:
            await conn.conn.close()
        self.opened.clear()
