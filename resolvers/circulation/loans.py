"""Loans as the patron sees them (LOAN-1) and renewal (LOAN-2..4)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Date, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Copy, Hold, Library, Loan, Patron, Record
from models.db import lock_row
from models.driver_reads import KEYS, DriverSelect, fetch_in
from models.driver_writes import DriverWrite
from policies.calendar import IsOpen
from policies.circulation import LoanFacts, renewal_due_date, renewal_refusal
from policies.config import CirculationPolicy
from policies.enums import HoldState
from policies.errors import ErrorCode, RuleViolation
from resolvers.circulation.calendar import opening_test
from resolvers.circulation.holds import check_batch
from resolvers.shared.context import Context, PatronViewer
from resolvers.shared.loaders import QueueEntry, existing


async def open_loans(ctx: Context, patron_id: int) -> Sequence[Loan]:
    """The patron's loans not yet returned, soonest due first."""
    loans: Sequence[Loan] = await ctx.loaders.open_loans_by_patron.load(patron_id)
    return loans


def _facts(loan: Loan, copy: Copy, record: Record, library: Library, held: bool) -> LoanFacts:
    return LoanFacts(
        due_on=loan.due_on,
        renewals=loan.renewals,
        lent_at_kind=library.kind,
        material=record.material_type,
        from_other_city=copy.from_other_city,
        held_by_others=held,
    )


def refusal_today(
    loan: Loan,
    copy: Copy,
    record: Record,
    library: Library,
    held: bool,
    today: date,
    policy: CirculationPolicy,
) -> RuleViolation | None:
    """Why the loan could not be renewed today, judged without a calendar look-up (for the
    loan list and the due-date reminder). LOAN-6 uses the nominal new due date: a closed
    day only moves a date later, so this never calls renewable a loan that is not."""
    nominal = renewal_due_date(today, library.kind, lambda _day: True, policy)
    return renewal_refusal(_facts(loan, copy, record, library, held), today, policy, nominal)


def _held_by_others(loan: Loan, queue: Sequence[QueueEntry]) -> bool:
    return any(patron_id != loan.patron_id for _, patron_id in queue)


async def renewal_check(ctx: Context, loan: Loan) -> RuleViolation | None:
    """Why the loan could not be renewed today, or ``None`` (shown in the loan list)."""
    copy = await existing(ctx.loaders.copy, loan.copy_id)
    record = await existing(ctx.loaders.record, copy.record_id)
    library = await existing(ctx.loaders.library, loan.library_id)
    queue = await ctx.loaders.queue_by_record.load(copy.record_id)
    held = _held_by_others(loan, queue)
    return refusal_today(loan, copy, record, library, held, ctx.today(), ctx.policy.circulation)


@dataclass(frozen=True, slots=True)
class LoanDetails:
    """What the loan list shows of a loan beyond its row: read for the whole list at once
    (:func:`open_loans_in_detail`), so its fields need no read, and no task, of their own."""

    copy: Copy
    record: Record
    refusal: RuleViolation | None  # why it could not be renewed today (renewal_check's)


# The loan list in one statement, as raw SQL would read it: each open loan with its copy
# and title, and whether anyone else waits for the title (LOAN-3 ``HELD_BY_OTHERS``; a
# waiting hold always has its patron). Five statements became one (bench/README, Round 5).
_OTHERS_WAIT = (
    exists()
    .where(
        Hold.record_id == Copy.record_id,
        Hold.state == HoldState.WAITING,
        Hold.patron_id != Loan.patron_id,
    )
    .correlate(Copy, Loan)
)
OPEN_LOANS_IN_DETAIL = DriverSelect(
    select(*Loan.__table__.c, *Copy.__table__.c, *Record.__table__.c, _OTHERS_WAIT)
    .join(Copy, Copy.id == Loan.copy_id)
    .join(Record, Record.id == Copy.record_id)
    .where(Loan.patron_id.in_(KEYS), Loan.returned_at.is_(None))
    .order_by(Loan.due_on, Loan.id),
    (Loan, Copy, Record),
)


async def open_loans_in_detail(ctx: Context, patron_id: int) -> list[tuple[Loan, LoanDetails]]:
    """:func:`open_loans`, each with its copy, title and today's renewal answer: the loans
    with their copies, titles and waiting lines in one statement, the libraries alongside."""
    rows, by_id = await asyncio.gather(
        ctx.reads.rows(OPEN_LOANS_IN_DETAIL, [patron_id]), ctx.loaders.libraries_by_id()
    )
    today, policy = ctx.today(), ctx.policy.circulation
    return [
        (
            loan,
            LoanDetails(
                copy,
                record,
                refusal_today(
                    loan, copy, record, by_id[loan.library_id], bool(held), today, policy
                ),
            ),
        )
        for loan, copy, record, held in rows
    ]


@dataclass(slots=True)
class RenewalOutcome:
    """One loan's answer to a renewal: renewed (with its new due date) or refused."""

    loan_id: int
    loan: Loan | None
    errors: list[RuleViolation] = field(default_factory=list)
    # The loan's copy, title and today's answer after the renewal, for its payload.
    details: LoanDetails | None = None


# A renewal's loans in one statement: each open loan asked for with its copy, title and
# library, and whether someone else waits for the title (LOAN-3). The patron is checked on
# the rows: another patron's loan is answered as a missing one.
_RENEWAL_FACTS = DriverSelect(
    select(*Loan.__table__.c, *Copy.__table__.c, *Record.__table__.c, *Library.__table__.c)
    .add_columns(_OTHERS_WAIT)
    .join(Copy, Copy.id == Loan.copy_id)
    .join(Record, Record.id == Copy.record_id)
    .join(Library, Library.id == Loan.library_id)
    .where(Loan.id.in_(KEYS), Loan.returned_at.is_(None)),
    (Loan, Copy, Record, Library),
)

# A loan renewed: its new due date and one renewal more, the row back whole.
_RENEWED = DriverWrite(
    update(Loan)
    .where(Loan.id == bindparam("loan"))
    .values(due_on=bindparam("due", type_=Date), renewals=Loan.renewals + 1)
    .returning(*Loan.__table__.c),
    Loan,
)

_RenewalRow = tuple[Loan, Copy, Record, Library, bool]


async def _renew_one(
    ctx: Context, db: AsyncSession, row: _RenewalRow, is_open: IsOpen
) -> RenewalOutcome:
    """Renew one loan, or say why not; a refused renewal changes nothing (LOAN-3, LOAN-6)."""
    loan, copy, record, library, waiting = row
    held = bool(waiting)  # SQLite answers EXISTS with 0 or 1
    today, policy = ctx.today(), ctx.policy.circulation
    new_due = renewal_due_date(today, library.kind, is_open, policy)
    refusal = renewal_refusal(_facts(loan, copy, record, library, held), today, policy, new_due)
    errors = [] if refusal is None else [refusal]
    if refusal is None:
        [loan] = await _RENEWED.run(db, loan=loan.id, due=new_due)
    after = refusal_today(loan, copy, record, library, held, today, policy)
    return RenewalOutcome(loan.id, loan, errors, LoanDetails(copy, record, after))


async def renew(
    ctx: Context, viewer: PatronViewer, loan_ids: Sequence[int | None]
) -> tuple[list[RenewalOutcome], list[RuleViolation]]:
    """Renew several loans at once; each is renewed or refused with its code (LOAN-4).

    ``None`` stands for an id that did not decode: ``NOT_FOUND``, like another patron's.
    """
    known = [i for i in loan_ids if i is not None]
    try:
        check_batch(known, "loanIds")
    except RuleViolation as bad:
        return [], [bad]
    outcomes: list[RenewalOutcome] = []
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, viewer.patron_id)
        rows = await fetch_in(db, _RENEWAL_FACTS, known) if known else []
        found = {row[0].id: row for row in rows if row[0].patron_id == viewer.patron_id}
        calendars: dict[int, IsOpen] = {}
        for loan_id in loan_ids:
            row = found.get(loan_id) if loan_id is not None else None
            if row is None:
                nf = RuleViolation(ErrorCode.NOT_FOUND, field="loanIds")
                outcomes.append(RenewalOutcome(loan_id=loan_id or 0, loan=None, errors=[nf]))
                continue
            library = row[3]
            if library.id not in calendars:
                calendars[library.id] = await opening_test(db, library, ctx.today())
            outcomes.append(await _renew_one(ctx, db, row, calendars[library.id]))
    return outcomes, []
