"""Catalogue reads: a record, the libraries, their calendars, new arrivals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select

from models import Library, Record
from policies.errors import ErrorCode, RuleViolation
from policies.text import has_control
from resolvers.shared.context import Context


async def record(ctx: Context, record_id: int) -> Record | None:
    """One record by id."""
    row: Record | None = await ctx.loaders.record.load(record_id)
    return row


async def libraries(ctx: Context) -> Sequence[Library]:
    """Every library, in display order (read once per request, shared with the loader)."""
    return await ctx.loaders.all_libraries()


async def calendar_exceptions(ctx: Context, library_id: int) -> dict[date, bool]:
    """A library's dated calendar exceptions (holidays and extra opening days)."""
    days = await ctx.loaders.calendar_by_library.load(library_id)
    return {d.day: d.is_open for d in days}


@dataclass(frozen=True, slots=True)
class ArrivalsPage:
    """A page of newly added titles, newest first, and how many there are in all."""

    records: Sequence[Record]
    total: int
    has_next: bool


MAX_CLASSES = 20


async def new_arrivals(
    ctx: Context, since: date, classes: Sequence[str], first: int, after_id: int | None
) -> ArrivalsPage:
    """Titles added to the catalogue on or after ``since`` (library time), newest first,
    whose classification starts with one of ``classes`` when any are given (MAIL-4)."""
    tz = ZoneInfo(ctx.services.policy.service.timezone)
    classes = [c.strip() for c in classes if c.strip()]
    if len(classes) > MAX_CLASSES or any(len(c) > 20 or has_control(c) for c in classes):
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="subjectClasses", max=MAX_CLASSES)
    conds: list[ColumnElement[bool]] = [
        Record.created_at >= datetime.combine(since, time(0), tzinfo=tz)
    ]
    if classes:
        conds.append(or_(*(Record.subject_class.startswith(c, autoescape=True) for c in classes)))
    page = select(Record).where(*conds)
    if after_id is not None:
        page = page.where(Record.id < after_id)
    async with ctx.services.sessions() as db:
        rows = list((await db.execute(page.order_by(Record.id.desc()).limit(first + 1))).scalars())
        total = (await db.execute(select(func.count()).where(*conds))).scalar_one()
    for row in rows:
        ctx.loaders.record.prime(row.id, row)
    return ArrivalsPage(records=rows[:first], total=int(total), has_next=len(rows) > first)
