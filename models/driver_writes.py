"""Hot writes on the database driver's own connection, in a session's transaction (issue
[R2 9/9]; the reads' side is :mod:`models.driver_reads`).

A two-step hold inserts a basket entry, then a hold. Through the ORM each insert is a
flush: the unit of work sorts what is pending, builds the statement's parameters, runs it
and reads the new id back, about a millisecond of CPU for one row, and the flushes were a
third of the API's CPU in the hold cycle's profile (bench/profiles/hold-round6.txt). A
:class:`DriverWrite` is one INSERT, UPDATE or DELETE whose parameters are named bind
parameters: SQLAlchemy compiles it once per dialect, its types' bind processors convert
each value, and the driver sends it on the session's connection, inside its transaction
(its locks, its commit). With ``RETURNING`` the model's columns, the rows come back as
model instances, detached with their identity, as the driver reads build them.

Every value is given by the caller: a column's Python-side default (which SQLAlchemy
would evaluate per statement) is not applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from models.driver_reads import RowMaker, in_transaction, send

Process = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Each positional parameter: its name, its processor, and the statement's own value
    # for it (a constant written into the statement, used when the call names no value).
    binds: tuple[tuple[str, Process, Any], ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # RETURNING columns to convert


class DriverWrite(RowMaker):
    """``stmt`` (an ``insert``, ``update`` or ``delete`` with named ``bindparam``s), run by
    :meth:`run` with the values by name. With ``model``, ``stmt`` returns the model's
    table columns in order (``.returning(*Model.__table__.c)``) and :meth:`run` answers
    the instances."""

    def __init__(self, stmt: UpdateBase, model: type[Any] | None = None) -> None:
        self.stmt = stmt
        self.model = model
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.stmt.compile(dialect=dialect)
        binds = tuple(
            (
                name,
                (bind := compiled.binds[name]).type.dialect_impl(dialect).bind_processor(dialect),
                bind.effective_value,
            )
            for name in compiled.positiontup or ()
        )
        returning = self.stmt.exported_columns
        processors = tuple(
            (i, process)
            for i, column in enumerate(returning)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        )
        return _Compiled(str(compiled), binds, processors)

    async def run(self, db: AsyncSession, **values: Any) -> list[Any]:
        """Run the statement in ``db``'s transaction; the rows it returns (or instances)."""
        return await self.run_on(await db.connection(), **values)

    async def run_on(self, conn: AsyncConnection, **values: Any) -> list[Any]:
        """Run the statement on ``conn``, inside its transaction (or committed when it
        returns, on a connection in autocommit); the rows it returns (or instances)."""
        driver = await in_transaction(conn)
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        params = tuple(
            process(value) if process is not None else value
            for name, process, constant in compiled.binds
            for value in (values.get(name, constant),)
        )
        return self.rows(await send(conn, compiled.sql, params, driver), compiled.processors)
