"""Per-request DataLoaders (aiodataloader): one query per batch, never one per item.

Every batch reads through the request's one read session (:class:`RequestReads`), which
serialises them: one ``AsyncSession`` must never run two statements at once, and GraphQL
resolves sibling fields concurrently.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select, and_, case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    CalendarDay,
    Copy,
    Hold,
    Library,
    Loan,
    Patron,
    Record,
    StaffAudit,
    StaffUser,
)
from models.driver_reads import KEYS, DriverSelect
from policies.enums import CopyStatus, HoldState
from resolvers.shared.reads import RequestReads

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Availability:
    """Copies of one record at one library: how many, how many on the shelf now."""

    record_id: int
    library_id: int
    copies: int
    available: int
    holdable: int


BatchFn = Callable[[list[K]], Coroutine[Any, Any, list[V]]]
# (hold id, patron id) of a waiting hold.
QueueEntry = tuple[int, int | None]
# (staff id, patron id, action, when) of a staff read of a patron.
AuditKey = tuple[int, int, str, datetime]


# Every batch statement is built once, with the batch's keys as its one expanding parameter
# (KEYS), and sent by the driver itself (models/driver_reads.py; bench/README, "Round 3").


async def _closed(keys: list[Any]) -> list[Any]:
    """The batch function of a loader whose request is over (:meth:`Loaders.close`)."""
    raise RuntimeError("the request's loaders are closed")


def _loader(fn: BatchFn[K, V]) -> DataLoader[K, V]:
    return DataLoader(batch_load_fn=fn, max_batch_size=500)


@functools.cache
def by_id(model: Any) -> DriverSelect:
    """Rows of ``model`` by id (one statement per model, built on first use)."""
    return DriverSelect(select(*model.__table__.c).where(model.id.in_(KEYS)), model)


def _grouped(model: Any, key: Any, *, order: Any, where: Any = None) -> DriverSelect:
    """Rows of ``model`` whose ``key`` is among the keys, in ``order`` then by id."""
    stmt = select(*model.__table__.c).where(key.in_(KEYS)).order_by(order, model.id)
    return DriverSelect(stmt if where is None else stmt.where(where), model)


COPIES_BY_RECORD = _grouped(Copy, Copy.record_id, order=Copy.id)
CALENDAR_BY_LIBRARY = _grouped(CalendarDay, CalendarDay.library_id, order=CalendarDay.day)
OPEN_LOANS_BY_PATRON = _grouped(
    Loan, Loan.patron_id, order=Loan.due_on, where=Loan.returned_at.is_(None)
)
OPEN_LOANS_BY_COPY = _grouped(
    Loan, Loan.copy_id, order=Loan.due_on, where=Loan.returned_at.is_(None)
)


def _availability_statement() -> Select[int, int, int, Any, Any]:
    on_shelf = Copy.status == CopyStatus.AVAILABLE
    holdable = and_(~Copy.reference_only, ~Copy.from_other_city)
    return (
        select(
            Copy.record_id,
            Copy.library_id,
            func.count(),
            func.sum(case((on_shelf, 1), else_=0)),
            func.sum(case((holdable, 1), else_=0)),
        )
        .where(Copy.record_id.in_(KEYS), Copy.status != CopyStatus.WITHDRAWN)
        .group_by(Copy.record_id, Copy.library_id)
        .order_by(Copy.record_id, Copy.library_id)
    )


AVAILABILITY = DriverSelect(_availability_statement())
# A waiting hold always has its patron (only closed ones forget theirs).
QUEUES = DriverSelect(
    select(Hold.record_id, Hold.id, Hold.patron_id)
    .where(Hold.record_id.in_(KEYS), Hold.state == HoldState.WAITING)
    .order_by(Hold.record_id, Hold.placed_at, Hold.id)
)
LIBRARIES = DriverSelect(
    select(*Library.__table__.c).order_by(Library.position, Library.id), Library
)


async def existing(loader: DataLoader[K, V | None], key: K) -> V:
    """The row a foreign key names, through ``loader``: it exists, the database enforces
    the reference (a ``LookupError`` otherwise, a bug)."""
    row = await loader.load(key)
    if row is None:
        raise LookupError(f"nothing behind the reference {key!r}")
    return row


class Loaders:
    """The loaders of one request."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions  # for the audit rows, written in a transaction of their own
        # The request's read session: the loaders' and the resolvers' (``Context.reads``).
        self.reads = RequestReads(sessions)
        self._libraries: asyncio.Future[Sequence[Library]] | None = None
        self._closed = False

    # Each loader is made when a request first asks for it: a request uses two or three of
    # the twelve, and making them all cost about 1 % of the mixed load's CPU.
    def _new(self, fn: BatchFn[K, V]) -> DataLoader[K, V]:
        return _loader(_closed if self._closed else fn)

    @functools.cached_property
    def record(self) -> DataLoader[int, Record | None]:
        """Titles by id."""
        return self._new(self._by_id(Record))

    @functools.cached_property
    def library(self) -> DataLoader[int, Library | None]:
        """Libraries by id, answered from :meth:`all_libraries`."""
        return self._new(self._libraries_by_id)

    @functools.cached_property
    def patron(self) -> DataLoader[int, Patron | None]:
        """Patrons by id."""
        return self._new(self._by_id(Patron))

    @functools.cached_property
    def staff_user(self) -> DataLoader[int, StaffUser | None]:
        """Staff users by id (who read what: the audit log)."""
        return self._new(self._by_id(StaffUser))

    @functools.cached_property
    def copy(self) -> DataLoader[int, Copy | None]:
        """Copies by id."""
        return self._new(self._by_id(Copy))

    @functools.cached_property
    def copies_by_record(self) -> DataLoader[int, list[Copy]]:
        """A title's copies."""
        return self._new(self._group_by(COPIES_BY_RECORD, Copy.record_id))

    @functools.cached_property
    def calendar_by_library(self) -> DataLoader[int, list[CalendarDay]]:
        """A library's calendar days."""
        return self._new(self._group_by(CALENDAR_BY_LIBRARY, CalendarDay.library_id))

    @functools.cached_property
    def availability_by_record(self) -> DataLoader[int, list[Availability]]:
        """A title's availability per library."""
        return self._new(self._availability)

    @functools.cached_property
    def queue_by_record(self) -> DataLoader[int, list[QueueEntry]]:
        """The waiting line of a title: (hold id, patron id), first come first served
        (HOLD-7)."""
        return self._new(self._queues)

    @functools.cached_property
    def open_loans_by_patron(self) -> DataLoader[int, list[Loan]]:
        """A patron's open loans, soonest due first."""
        return self._new(self._group_by(OPEN_LOANS_BY_PATRON, Loan.patron_id))

    @functools.cached_property
    def audit(self) -> DataLoader[AuditKey, None]:
        """Staff reads of patrons named in a list: one audit row each, written in one
        batch. Keys are (staff id, patron id, action, when); a repeat in one request is
        one row."""
        return self._new(self._audit)

    @functools.cached_property
    def open_loans_by_copy(self) -> DataLoader[int, list[Loan]]:
        """A copy's open loan (at most one: 0009_one_open_loan_per_copy), for its due date."""
        return self._new(self._group_by(OPEN_LOANS_BY_COPY, Loan.copy_id))

    async def close(self) -> None:
        """The request is over: give its read connection back and let go of what it read.

        Each loader's batch function refers back to this object, so every request made
        a reference cycle holding all its rows, futures and instances (some 600 objects
        for a page of 20 loans) that only Python's cyclic collector could free. It let
        them pile up into its oldest generation, and the full collections that followed
        took a third of the API's CPU (bench/README.md, "Round 4"). Cutting the cycle
        here lets reference counting free them as the request ends."""
        await self.reads.close()
        self._closed = True  # a loader asked for from now on is made closed
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()
                loader.batch_load_fn = _closed
        self._libraries = None

    async def all_libraries(self) -> list[Library]:
        """Every library, in display order, read once per request. A city has tens of
        them, and one page names them from sibling fields (availability, copies, facets,
        pickup) that resolve in no fixed order: one read serves them all, so a request
        costs the same statements however its fields interleave."""
        if self._libraries is None:
            self._libraries = asyncio.ensure_future(self.reads.rows(LIBRARIES, ()))
        elif self._libraries.done() and not self._libraries.cancelled():
            return list(self._libraries.result())  # read already: no await, no shield
        # Shielded: one field cancelled must not cancel the read its siblings wait on.
        return list(await asyncio.shield(self._libraries))

    async def libraries_by_id(self) -> dict[int, Library]:
        """Every library by id, from the one read of :meth:`all_libraries`."""
        return {row.id: row for row in await self.all_libraries()}

    def library_now(self, library_id: int) -> Library | None:
        """The library, if the request has read the libraries already; else ``None`` (ask
        :attr:`library`). Lets a field answer without an await when it can."""
        done = self._libraries
        if done is None or not done.done() or done.cancelled() or done.exception():
            return None
        return next((row for row in done.result() if row.id == library_id), None)

    async def _audit(self, keys: list[AuditKey]) -> list[None]:
        rows = [
            {"staff_id": staff, "patron_id": patron, "action": action, "at": at}
            for staff, patron, action, at in keys
        ]
        async with self._sessions() as db, db.begin():
            await db.execute(insert(StaffAudit), rows)
        return [None] * len(keys)

    async def _libraries_by_id(self, ids: list[int]) -> list[Library | None]:
        found = await self.libraries_by_id()
        return [found.get(i) for i in ids]

    def _by_id(self, model: Any) -> BatchFn[int, Any]:
        query = by_id(model)

        async def load(ids: list[int]) -> list[Any]:
            found = {row.id: row for row in await self.reads.rows(query, ids)}
            return [found.get(i) for i in ids]

        return load

    def _group_by(self, query: DriverSelect, key: Any) -> BatchFn[int, list[Any]]:
        """Rows of ``query`` (a :func:`_grouped` one) for each key, grouped by ``key``."""

        async def load(keys: list[int]) -> list[list[Any]]:
            groups: dict[int, list[Any]] = defaultdict(list)
            for row in await self.reads.rows(query, keys):
                groups[getattr(row, key.key)].append(row)
            return [groups.get(k, []) for k in keys]

        return load

    async def _availability(self, record_ids: list[int]) -> list[list[Availability]]:
        groups: dict[int, list[Availability]] = defaultdict(list)
        rows = await self.reads.rows(AVAILABILITY, record_ids)
        for rid, lid, total, avail, hold in rows:
            groups[rid].append(Availability(rid, lid, total, int(avail or 0), int(hold or 0)))
        return [groups.get(r, []) for r in record_ids]

    async def _queues(self, record_ids: list[int]) -> list[list[QueueEntry]]:
        groups: dict[int, list[QueueEntry]] = defaultdict(list)
        for rid, hold_id, patron_id in await self.reads.rows(QUEUES, record_ids):
            groups[rid].append((hold_id, patron_id))
        return [groups.get(r, []) for r in record_ids]
