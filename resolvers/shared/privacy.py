"""Reading privacy: what a patron has read is nobody's business.

One rule, :func:`settle`, decides every patron↔title link: when a loan or hold (print or
e-book) ends, the link goes unless the patron has opted in to a reading history at that
moment. The opt-in is read under the patron's row lock, which an opt-out holds too, so a
check-in racing an opt-out cannot keep a link the opt-out did not see; opting out runs the
same rule over everything already ended, in its own transaction. A forgotten row keeps what
statistics need (record, library, the day) and nothing that re-links it: no patron, no
copy on a closed hold, no instant finer than the library day. Staff reads of a patron's
personal data are audited, to the hour (an exact instant would line up with a loan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from models import EbookHold, EbookLoan, Hold, Loan, Patron, StaffAudit
from models.db import lock_row
from models.driver_reads import KEYS, DriverSelect, fetch_in
from policies.enums import EbookHoldState, HoldState
from resolvers.shared.context import Context, PatronViewer, StaffViewer

MAX_HISTORY = 100


@dataclass(frozen=True, slots=True)
class _Kind:
    """Where a patron meets a title: the table, when a row has ended, what it forgets."""

    model: Any
    ended: Any  # a SQL condition true for ended rows
    instants: tuple[str, ...]  # coarsened to the library day
    forgets: tuple[str, ...] = ()  # set to None besides the patron


KINDS = (
    _Kind(Loan, Loan.returned_at.is_not(None), ("loaned_at", "returned_at")),
    _Kind(
        Hold,
        Hold.state.in_((HoldState.COLLECTED, HoldState.CANCELLED, HoldState.EXPIRED)),
        ("placed_at", "ready_at", "closed_at"),
        ("copy_id",),  # the copy would point at the loan it became
    ),
    _Kind(EbookLoan, EbookLoan.returned_at.is_not(None), ("borrowed_at", "due_at", "returned_at")),
    _Kind(
        EbookHold,
        EbookHold.state.in_(
            (EbookHoldState.COLLECTED, EbookHoldState.CANCELLED, EbookHoldState.EXPIRED)
        ),
        ("placed_at", "ready_at", "expires_at", "closed_at"),
    ),
)


# Built once: a cancellation or a return runs them in its transaction.
_KEEPS = DriverSelect(select(Patron.keep_reading_history).where(Patron.id.in_(KEYS)))
# Every ended row of a patron, as (its kind's place in KINDS, its id): one statement, sent
# by the driver in the settling transaction, where four (one per table) used to run.
_ENDED_ROWS = union_all(
    *(
        select(literal_column(str(n)).label("kind"), kind.model.id.label("row")).where(
            kind.model.patron_id.in_(KEYS), kind.ended
        )
        for n, kind in enumerate(KINDS)
    )
).subquery()
_ENDED = DriverSelect(select(_ENDED_ROWS.c.kind, _ENDED_ROWS.c.row))


def day_of(instant: datetime, timezone: str) -> datetime:
    """The start of the library day ``instant`` falls on: what statistics keep of it."""
    tz = ZoneInfo(timezone)
    return datetime.combine(instant.astimezone(tz).date(), time(0), tzinfo=tz)


async def keeps_history(db: AsyncSession, patron_id: int, *, locked: bool = False) -> bool:
    """Whether the patron keeps a reading history, read after locking the patron's row
    (``locked``: the caller has locked it in this transaction already), so the answer
    holds until ``db`` commits (an opt-out waits for it, or it waits for one)."""
    if not locked:
        await lock_row(db, Patron, patron_id)
    found = await fetch_in(db, _KEEPS, [patron_id])
    return bool(found and found[0][0])


async def settle(
    db: AsyncSession,
    patron_id: int | None,
    timezone: str,
    *,
    locked: bool = False,
    ended_now: Sequence[Any] = (),
) -> None:
    """The rule, called in the transaction that ends a loan or hold: unless the patron keeps
    a history, every ended loan and hold of theirs forgets them (this one included).
    ``locked``: the caller holds the patron's row lock already; ``ended_now``: see
    :func:`forget_ended`."""
    if patron_id is None or await keeps_history(db, patron_id, locked=locked):
        return
    await forget_ended(db, patron_id, timezone, ended_now)


async def forget_ended(
    db: AsyncSession, patron_id: int, timezone: str, ended_now: Sequence[Any] = ()
) -> None:
    """Anonymise every ended loan and hold of a patron; the caller holds the patron's lock.

    The rows are found by what the database holds, so whatever the caller has changed is
    written first, unless the caller names the rows it has just ended (``ended_now``, the
    session's own instances): those are forgotten with the rest, and each is written once,
    ended and forgotten in one UPDATE, when the session flushes."""
    if not ended_now:
        await db.flush()  # the row being ended now must be seen as ended
    ended: dict[int, list[int]] = {}
    for n, row_id in await fetch_in(db, _ENDED, [patron_id]):
        ended.setdefault(int(n), []).append(row_id)
    rows: dict[int, tuple[_Kind, Any]] = {}
    for n, ids in ended.items():
        for row in await _session_rows(db, KINDS[n].model, ids):
            rows[id(row)] = (KINDS[n], row)
    for row in ended_now:
        rows[id(row)] = (next(k for k in KINDS if isinstance(row, k.model)), row)
    for kind, row in rows.values():
        _forget(kind, row, timezone)
    await db.flush()


def _forget(kind: _Kind, row: Any, timezone: str) -> None:
    """One ended row keeps only what statistics need."""
    row.patron_id = None
    for name in kind.forgets:
        setattr(row, name, None)
    for name in kind.instants:
        value = getattr(row, name)
        if value is not None:
            setattr(row, name, day_of(value, timezone))


async def _session_rows(db: AsyncSession, model: Any, ids: list[int]) -> list[Any]:
    """The session's instances of ``model`` for ``ids``: those it holds already (the row
    the caller has just ended) without a statement, the others in one."""
    held = db.sync_session.identity_map
    rows = [held.get(identity_key(model, i)) for i in ids]
    missing = [i for i, row in zip(ids, rows, strict=True) if row is None]
    if missing:
        rows += (await db.execute(select(model).where(model.id.in_(missing)))).scalars()
    return [row for row in rows if row is not None]


async def reading_history(ctx: Context, viewer: PatronViewer) -> Sequence[Loan]:
    """The patron's returned loans, newest first (only kept when opted in)."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(Loan)
            .where(Loan.patron_id == viewer.patron_id, Loan.returned_at.is_not(None))
            .order_by(Loan.returned_at.desc(), Loan.id.desc())
            .limit(MAX_HISTORY)
        )
        return rows.scalars().all()


def audit_instant(now: datetime) -> datetime:
    """An audit entry's time, to the hour: enough to answer "who looked, and when", too
    coarse to line a lookup up with the loan made a moment later."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def audit(ctx: Context, action: str, patron_id: int) -> None:
    """Record that the staff member asking read a patron's personal data."""
    async with ctx.services.sessions() as db, db.begin():
        record_act(db, ctx, action, patron_id)


async def audit_listed(ctx: Context, action: str, patron_id: int) -> None:
    """Like :func:`audit`, for a patron named in a list: the request's reads are written
    in one batch (a list of 100 holds costs one INSERT, not 100)."""
    viewer = ctx.viewer
    if isinstance(viewer, StaffViewer):
        key = (viewer.staff_id, patron_id, action, audit_instant(ctx.services.clock.now()))
        await ctx.loaders.audit.load(key)


def record_act(
    db: AsyncSession, ctx: Context, action: str, patron_id: int, reason: str | None = None
) -> None:
    """Audit, inside the caller's transaction, what the staff member asking did or read for
    a patron (STAFF-2): it is kept exactly when the act is."""
    viewer = ctx.viewer
    if not isinstance(viewer, StaffViewer):
        return
    db.add(
        StaffAudit(
            staff_id=viewer.staff_id,
            patron_id=patron_id,
            action=action,
            reason=reason,
            at=audit_instant(ctx.services.clock.now()),
        )
    )


async def audit_log(ctx: Context, patron_id: int) -> Sequence[StaffAudit]:
    """Who on the staff read a patron's data, newest first."""
    async with ctx.services.sessions() as db:
        rows = await db.execute(
            select(StaffAudit)
            .where(StaffAudit.patron_id == patron_id)
            .order_by(StaffAudit.at.desc(), StaffAudit.id.desc())
            .limit(200)
        )
        return rows.scalars().all()
