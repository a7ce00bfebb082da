"""Holds as the patron sees them: the two-step placement from the basket (BASKET-2),
and the hold list with queue positions (HOLD-7, HOLD-10); the changes a patron may make to
a waiting hold (HOLD-6) are in :mod:`resolvers.circulation.hold_changes`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import BasketEntry, Copy, Hold, Library, Loan, Patron, Record
from models.db import lock_row
from models.driver_reads import KEYS, DriverSelect, fetch_in
from models.driver_writes import DriverWrite
from policies.circulation import (
    ACTIVE_HOLD_STATES,
    Category,
    CopyFacts,
    HoldRequest,
    category,
    check_hold,
)
from policies.enums import CopyStatus, HoldState
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared.context import Context, PatronViewer
from resolvers.shared.loaders import QUEUES, by_id

MAX_BATCH = 100


@dataclass(slots=True)
class HoldOutcome:
    """One basket entry's verdict (preview) or result (placement)."""

    entry_id: int
    record: Record | None
    hold: Hold | None = None
    errors: list[RuleViolation] = field(default_factory=list)


@dataclass(slots=True)
class Placement:
    """The answer to a preview or a placement: a batch-level error, or one outcome per entry."""

    outcomes: list[HoldOutcome] = field(default_factory=list)
    errors: list[RuleViolation] = field(default_factory=list)
    pickup: Library | None = None


def check_batch(ids: Sequence[object], field_name: str) -> None:
    """At most 100 ids, each once."""
    if len(ids) > MAX_BATCH:
        raise RuleViolation(ErrorCode.TOO_MANY_ITEMS, field=field_name, max=MAX_BATCH)
    if len(set(ids)) != len(ids):
        raise RuleViolation(ErrorCode.DUPLICATE_ID, field=field_name)


async def pickup_library(db: AsyncSession, library_id: int | None, patron: Patron) -> Library:
    chosen = library_id if library_id is not None else patron.default_pickup_library_id
    found = await fetch_in(db, by_id(Library), [chosen]) if chosen is not None else []
    if not found or not found[0].takes_holds:
        raise RuleViolation(ErrorCode.INVALID_PICKUP_LIBRARY, field="pickupLibraryId")
    library: Library = found[0]
    return library


_PATRON_LOCKED = DriverSelect(
    select(*Patron.__table__.c).where(Patron.id.in_(KEYS)).with_for_update(), Patron
)


async def patron_row(db: AsyncSession, patron_id: int, *, lock: bool) -> Patron:
    """The patron's row in ``db``'s transaction, locked first with ``lock`` (as
    ``lock_row``), in one statement on PostgreSQL (``FOR UPDATE``)."""
    query = _PATRON_LOCKED if lock else by_id(Patron)
    if lock and db.get_bind().dialect.name == "sqlite":
        await lock_row(db, Patron, patron_id)  # SQLite's write lock: a no-op UPDATE
        query = by_id(Patron)
    [patron] = await fetch_in(db, query, [patron_id])
    return cast("Patron", patron)


@dataclass(slots=True)
class _Facts:
    """Everything the hold rules look at for one placement, read in its transaction."""

    pickup: Library
    entries: dict[int, BasketEntry]
    records: dict[int, Record]
    copies: dict[int, list[CopyFacts]]
    held: set[int]
    per_category: Counter[Category | None]
    on_loan: set[int]


# The placement's reads, built once and sent by the driver (models/driver_reads.py) in the
# placement's transaction; the patron's id is their one key. Entries are read by id and
# kept only when they are the patron's: another patron's entry looks like a missing one.
_ENTRIES = DriverSelect(
    select(*BasketEntry.__table__.c).where(BasketEntry.id.in_(KEYS)), BasketEntry
)
_COPIES = DriverSelect(
    select(Copy.record_id, Copy.reference_only, Copy.from_other_city, Copy.status).where(
        Copy.record_id.in_(KEYS)
    )
)
_ACTIVE = DriverSelect(
    select(Hold.record_id, Record.material_type)
    .join(Record, Record.id == Hold.record_id)
    .where(Hold.patron_id.in_(KEYS), Hold.state.in_(ACTIVE_HOLD_STATES))
)
_ON_LOAN = DriverSelect(
    select(Copy.record_id)
    .join(Loan, Loan.copy_id == Copy.id)
    .where(Loan.patron_id.in_(KEYS), Loan.returned_at.is_(None))
)


_OUT_OF_BASKET = DriverSelect(
    delete(BasketEntry).where(BasketEntry.id.in_(KEYS)).returning(BasketEntry.id)
)


async def _read_facts(
    db: AsyncSession, patron_id: int, known: list[int], pickup_id: int | None, *, lock: bool
) -> _Facts:
    """The patron (locked first when placing), pickup library, basket entries, titles,
    copies, active holds and open loans, all from ``db``'s one transaction."""
    patron = await patron_row(db, patron_id, lock=lock)
    pickup = await pickup_library(db, pickup_id, patron)
    found = await fetch_in(db, _ENTRIES, known)
    entries = {e.id: e for e in found if e.patron_id == patron_id}
    record_ids = sorted({e.record_id for e in entries.values()})
    records = {r.id: r for r in await fetch_in(db, by_id(Record), record_ids)}
    copies: dict[int, list[CopyFacts]] = {rid: [] for rid in record_ids}
    for record_id, reference_only, other_city, status in await fetch_in(db, _COPIES, record_ids):
        copies[record_id].append(
            CopyFacts(reference_only, other_city, status is CopyStatus.WITHDRAWN)
        )
    active = await fetch_in(db, _ACTIVE, [patron_id])
    on_loan = await fetch_in(db, _ON_LOAN, [patron_id])
    return _Facts(
        pickup=pickup,
        entries=entries,
        records=records,
        copies=copies,
        held={rid for rid, _ in active},
        per_category=Counter(category(m) for _, m in active),
        on_loan={rid for (rid,) in on_loan},
    )


def _decide(
    ctx: Context, facts: _Facts, entry_ids: Sequence[int | None]
) -> tuple[Placement, list[HoldOutcome]]:
    """Each entry's verdict by the pure rules (HOLD-1..4, HOLD-11); later titles of the same
    batch see the earlier ones counted (limit) and held (twice). Returns the placement and
    the outcomes that may be placed."""
    result = Placement(pickup=facts.pickup)
    allowed: list[HoldOutcome] = []
    for raw_id in entry_ids:
        entry = facts.entries.get(raw_id) if raw_id is not None else None
        if entry is None:
            nf = RuleViolation(ErrorCode.NOT_FOUND, field="basketEntryIds")
            result.outcomes.append(HoldOutcome(entry_id=raw_id or 0, record=None, errors=[nf]))
            continue
        record = facts.records[entry.record_id]
        outcome = HoldOutcome(entry_id=entry.id, record=record)
        result.outcomes.append(outcome)
        request = HoldRequest(
            material=record.material_type,
            copies=tuple(facts.copies[record.id]),
            already_held=record.id in facts.held,
            on_loan_to_patron=record.id in facts.on_loan,
        )
        cat = category(record.material_type)
        try:
            check_hold(request, facts.per_category[cat], ctx.policy.circulation)
        except RuleViolation as no:
            outcome.errors.append(no)
            continue
        facts.per_category[cat] += 1
        facts.held.add(record.id)
        allowed.append(outcome)
    return result, allowed


# A hold placed: written by the driver in the placement's transaction, the row back whole.
_INSERT_HOLD = DriverWrite(
    insert(Hold)
    .values(
        patron_id=bindparam("patron"),
        record_id=bindparam("record"),
        pickup_library_id=bindparam("pickup"),
        state=bindparam("state", type_=Hold.__table__.c.state.type),
        placed_at=bindparam("at", type_=Hold.__table__.c.placed_at.type),
    )
    .returning(*Hold.__table__.c),
    Hold,
)


async def _write(
    ctx: Context, db: AsyncSession, patron_id: int, pickup: Library, allowed: list[HoldOutcome]
) -> dict[int, list[tuple[int, int | None]]]:
    """Insert the holds, empty their basket entries, and read the titles' waiting lines in
    the same transaction: the answer is built from what was written, never from a read
    after the commit (which could fail and make a placed hold look unplaced)."""
    now = ctx.services.clock.now()
    for outcome in allowed:
        assert outcome.record is not None
        [outcome.hold] = await _INSERT_HOLD.run(
            db,
            patron=patron_id,
            record=outcome.record.id,
            pickup=pickup.id,
            state=HoldState.WAITING,
            at=now,
        )
    placed = [o.entry_id for o in allowed]
    if placed:
        await fetch_in(db, _OUT_OF_BASKET, placed)
    record_ids = sorted({o.record.id for o in allowed if o.record is not None})
    queues: dict[int, list[tuple[int, int | None]]] = {rid: [] for rid in record_ids}
    # The loaders' waiting-line statement, run in this transaction.
    for rid, hold_id, holder in await fetch_in(db, QUEUES, record_ids):
        queues[rid].append((hold_id, holder))
    return queues


def _prime(
    ctx: Context, result: Placement, queues: dict[int, list[tuple[int, int | None]]]
) -> None:
    """Hand the request's loaders what the transaction read, so the answer needs no
    statement after the commit."""
    if result.pickup is not None:
        ctx.loaders.library.prime(result.pickup.id, result.pickup)
    for outcome in result.outcomes:
        if outcome.record is not None:
            ctx.loaders.record.prime(outcome.record.id, outcome.record)
    for record_id, queue in queues.items():
        ctx.loaders.queue_by_record.prime(record_id, queue)


async def place(
    ctx: Context,
    viewer: PatronViewer,
    entry_ids: Sequence[int | None],
    pickup_library_id: int | None,
    *,
    confirm: bool,
) -> Placement:
    """Check (``confirm=False``, 予約内容確認) or place (``confirm=True``, 予約結果) holds for
    basket entries. Each title succeeds or fails on its own; placed titles leave the basket.

    One transaction reads every fact, the pure policy decides, and the same transaction
    writes. Placing locks the patron's row first, so concurrent placements by one patron
    are counted one after the other and can never pass the limit together; a preview only
    reads. ``None`` in ``entry_ids`` stands for an id that did not decode: ``NOT_FOUND``.
    """
    try:
        check_batch([i for i in entry_ids if i is not None], "basketEntryIds")
    except RuleViolation as bad:
        return Placement(errors=[bad])
    known = [i for i in entry_ids if i is not None]
    queues: dict[int, list[tuple[int, int | None]]] = {}
    try:
        # A preview reads in a transaction that is rolled back when the session closes:
        # it writes nothing and takes no write lock.
        async with ctx.services.sessions() as db, db.begin() if confirm else nullcontext():
            facts = await _read_facts(db, viewer.patron_id, known, pickup_library_id, lock=confirm)
            result, allowed = _decide(ctx, facts, entry_ids)
            if confirm:
                queues = await _write(ctx, db, viewer.patron_id, facts.pickup, allowed)
    except RuleViolation as bad:
        return Placement(errors=[bad])
    _prime(ctx, result, queues)
    return result
