"""Hot reads on the database driver's own connection (issue [R2 9/9]).

A request's loaders read by key lists: the copies of these titles, the libraries, the
waiting line of these titles. Through the ORM each such statement cost about 0.6-1.3 ms
of CPU on the benchmark machine (statement execution context, the greenlet bridge, result
objects, ORM identity bookkeeping); sent by asyncpg itself, 0.12-0.15 ms
(bench/README, "Round 3: query plans and driver reads"). A profile of the record page put 41 % of the API's CPU
inside SQLAlchemy.

:class:`DriverSelect` keeps everything SQLAlchemy is good at and skips the rest:

- the SQL text is SQLAlchemy's, compiled once per dialect and number of keys (the key
  list is the statement's one expanding parameter, ``keys``); every other parameter is a
  constant of the statement, converted once by its type's bind processor;
- rows come back through the types' own result processors (enums, SQLite's dates and
  booleans), exactly as SQLAlchemy converts them;
- a model's rows become instances of the model, detached with their identity, as a
  closed session leaves them (the loaders' rows always were).

It runs on the connection the request's read session holds (``RequestReads``), so the
pool, autocommit, the statement timeout and the connection's life are SQLAlchemy's. The
engine's ``before_cursor_execute`` listeners see each statement, so the statement counts
of the tests and the benchmark still count these reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapper, attributes, configure_mappers
from sqlalchemy.sql import visitors
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.visitors import ExternallyTraversible

# The key list of a DriverSelect: its one expanding parameter. Building and cache-keying a
# statement per batch cost about as much CPU as running it.
KEYS: BindParameter[Any] = bindparam("keys", expanding=True)
KEY_PREFIX = "keys_"  # the names SQLAlchemy gives the expanded ``keys`` parameter


@dataclass(frozen=True, slots=True)
class _Named:
    """A parameter given by name at each call (``DriverSelect(params=...)``)."""

    name: str
    process: Callable[[Any], Any] | None

    def value(self, values: Mapping[str, Any]) -> Any:
        given = values[self.name]
        return self.process(given) if self.process is not None else given


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # For each positional parameter: the index into the keys, or None and a constant (or
    # a _Named, a value given at each call).
    slots: tuple[tuple[int | None, Any], ...]
    # (column index, processor) for the columns whose values need converting.
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]


class RowMaker:
    """Driver records → rows converted by their columns' result processors, and, with a
    ``model`` (or a tuple of models), → its instances; the maker is made on first use,
    when the mappers can be configured."""

    model: type[Any] | tuple[type[Any], ...] | None = None
    _make: Callable[[Sequence[Any]], Any] | None = None

    def rows(
        self,
        records: Sequence[Any],
        processors: tuple[tuple[int, Callable[[Any], Any]], ...],
    ) -> list[Any]:
        """The records as rows, or as instances of the model."""
        rows = [_processed(record, processors) for record in records]
        if self.model is None:
            return rows
        if self._make is None:
            self._make = _row_maker(self.model)
        return [self._make(row) for row in rows]


class DriverSelect(RowMaker):
    """A SELECT whose one per-call parameter is the list ``keys`` (an expanding
    ``bindparam("keys", expanding=True)``).

    With ``model``, its columns must be the model's table columns in order
    (``select(*Model.__table__.c)``) and rows come back as model instances. With a tuple
    of models (a join), the columns are each model's table columns in turn, then any
    others; a row comes back as a tuple: one instance per model, then the other values.

    ``params`` names the statement's other ``bindparam``s whose values each call gives by
    name (a date range); every other parameter is a constant of the statement.

    ``stmt`` may also be a DELETE or UPDATE by the key list, its rows those of its
    ``RETURNING`` (rows by key are what the driver is fastest at, writes included)."""

    def __init__(
        self,
        stmt: Select[*tuple[Any, ...]] | UpdateBase,
        model: type[Any] | tuple[type[Any], ...] | None = None,
        *,
        params: tuple[str, ...] = (),
    ) -> None:
        self.stmt = stmt
        self.model = model
        self.params = params
        self._compiled: dict[tuple[str, int], _Compiled] = {}

    def _compile(self, dialect: Dialect, count: int) -> _Compiled:
        values: dict[str, Any] = {"keys": [0] * count, **dict.fromkeys(self.params)}
        compiled = _with_values(self.stmt, values).compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True}
        )
        slots: list[tuple[int | None, Any]] = []
        for name in compiled.positiontup or ():
            if name.startswith(KEY_PREFIX):
                slots.append((int(name[len(KEY_PREFIX) :]) - 1, None))
            elif name in self.params:
                process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                slots.append((None, _Named(name, process)))
            else:
                slots.append((None, _constant(compiled.binds, name, dialect)))
        processors = tuple(
            (i, process)
            for i, column in enumerate(self.stmt.exported_columns)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        )
        return _Compiled(str(compiled), tuple(slots), processors)

    def compiled(self, dialect: Dialect, count: int) -> _Compiled:
        """The statement for ``count`` keys (compiled on first use)."""
        key = (dialect.name, count)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect, count)
        return found

    async def fetch(
        self, conn: AsyncConnection, keys: Sequence[Any], driver: Any = None, **values: Any
    ) -> list[Any]:
        """The rows for ``keys`` (tuples, or model instances), read on ``conn``'s driver
        connection (``driver``, when the caller holds it already); ``values`` are the
        ``params`` by name."""
        compiled = self.compiled(conn.dialect, len(keys))
        params = tuple(
            keys[i] if i is not None else value.value(values) if type(value) is _Named else value
            for i, value in compiled.slots
        )
        records = await send(conn, compiled.sql, params, driver)
        return self.rows(records, compiled.processors)


async def send(
    conn: AsyncConnection, sql: str, params: tuple[Any, ...], driver: Any = None
) -> Sequence[Any]:
    """``sql`` with its positional ``params``, sent by ``conn``'s driver connection
    (``driver``, when the caller holds it already) after telling the engine's listeners;
    the records it returns."""
    _announce(conn, sql, params)
    raw = driver if driver is not None else (await conn.get_raw_connection()).driver_connection
    if conn.dialect.name == "postgresql":
        return await raw.fetch(sql, *params)  # type: ignore[no-any-return, union-attr]
    # aiosqlite: one trip to its thread
    return await raw.execute_fetchall(sql, params)  # type: ignore[no-any-return, union-attr]


def _with_values(stmt: Select[Any] | UpdateBase, values: dict[str, Any]) -> Any:
    """``stmt`` with its named ``bindparam``s given ``values`` (placeholders to compile
    with: ``Select.params``, which a DELETE or UPDATE does not have)."""
    if isinstance(stmt, Select):
        return stmt.params(**values)

    def given(element: ExternallyTraversible, **_kw: Any) -> ExternallyTraversible | None:
        if isinstance(element, BindParameter) and element.key in values:
            key = element.key
            return bindparam(key, values[key], type_=element.type, expanding=element.expanding)
        return None

    replaced: ExternallyTraversible = visitors.replacement_traverse(stmt, {}, given)
    return replaced


def _constant(binds: Mapping[str, BindParameter[Any]], name: str, dialect: Dialect) -> Any:
    """A constant parameter's value as the driver takes it. An expanded ``IN`` list's
    items are named ``<bind>_<n>`` (``state_1_2``: the second of ``state_1``)."""
    bind, index = binds.get(name), None
    if bind is None:
        base, _, number = name.rpartition("_")
        bind, index = binds[base], int(number) - 1
    value = bind.value if index is None else list(bind.value or ())[index]
    process = bind.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


def _processed(
    record: Sequence[Any], processors: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> Sequence[Any]:
    if not processors:
        return record
    row = list(record)
    for i, process in processors:
        if row[i] is not None:
            row[i] = process(row[i])
    return row


def _row_maker(model: type[Any] | tuple[type[Any], ...]) -> Callable[[Sequence[Any]], Any]:
    """A row -> its model instance; for a tuple of models, -> (instances..., others...)."""
    if not isinstance(model, tuple):
        return _instance_maker(model.__mapper__)
    parts: list[tuple[Callable[[Sequence[Any]], Any], int, int]] = []
    start = 0
    for one in model:
        end = start + len(one.__table__.columns)
        parts.append((_instance_maker(one.__mapper__), start, end))
        start = end

    def make(row: Sequence[Any]) -> tuple[Any, ...]:
        return (*(each(row[a:b]) for each, a, b in parts), *row[start:])

    return make


def _instance_maker(mapper: Mapper[Any]) -> Callable[[Sequence[Any]], Any]:
    """Rows of the mapper's table columns -> detached instances with their identity.

    The mappers are configured first: an instance's attributes work only then, and a
    process whose first reads are these (an anonymous record page) has queried nothing
    through the ORM that would have configured them."""
    configure_mappers()
    keys = [mapper.get_property_by_column(column).key for column in mapper.local_table.columns]
    names = [column.key for column in mapper.local_table.columns]
    pk_index = [names.index(str(column.key)) for column in mapper.primary_key]
    new_instance = mapper.class_manager.new_instance
    identity_class = mapper._identity_class
    # A list of 20 loans makes 60 instances: this runs more often than any other line of
    # a patron's list, so the usual one-column key is read without a generator.
    [pk] = pk_index if len(pk_index) == 1 else [None]

    def make(row: Sequence[Any]) -> Any:
        obj = new_instance()
        obj.__dict__.update(zip(keys, row, strict=True))
        key = (row[pk],) if pk is not None else tuple(row[i] for i in pk_index)
        attributes.instance_state(obj).key = (identity_class, key, None)
        return obj

    return make


def _announce(conn: AsyncConnection, sql: str, params: tuple[Any, ...]) -> None:
    """Tell the engine's ``before_cursor_execute`` listeners (statement counters)."""
    sync = conn.sync_connection
    # A connection's own flag is unset when only the engine has listeners (SQLAlchemy checks
    # both at each event point); checking the connection's alone counted no driver read.
    if sync is not None and (sync._has_events or sync.engine._has_events):
        sync.dispatch.before_cursor_execute(sync, None, sql, params, None, False)


async def fetch_in(
    db: AsyncSession, query: DriverSelect, keys: Sequence[Any], **values: Any
) -> list[Any]:
    """``query``'s rows for ``keys``, read by the driver inside ``db``'s transaction: it
    sees the transaction's writes and holds its locks. A mutation's reads of rows it does
    not change go this way (instances come back detached); a row it changes must be the
    session's own (``db.get``). So do a read session's hottest reads (the search's)."""
    conn = await db.connection()
    return await query.fetch(conn, keys, await in_transaction(conn), **values)


async def in_transaction(conn: AsyncConnection) -> Any:
    """``conn``'s driver connection, with the database's transaction begun if ``conn``
    is in one: a statement the driver sends then runs inside it.

    SQLAlchemy's asyncpg adapter sends ``BEGIN`` lazily, with the first statement
    SQLAlchemy itself runs; until then the driver's own statements ran in autocommit, and
    a placement's ``SELECT ... FOR UPDATE`` of the patron let go of its lock as it returned
    (tests/models/test_driver_transactions.py). The adapter's own start is used, so its
    commit and rollback end this transaction. (aiosqlite's driver begins one by itself
    before a write; SQLite's reads need none.)"""
    fairy = await conn.get_raw_connection()
    adapter: Any = fairy.dbapi_connection
    begin = getattr(adapter, "_start_transaction", None)
    if begin is not None and conn.in_transaction() and adapter._transaction is None:
        await begin()
    return fairy.driver_connection
