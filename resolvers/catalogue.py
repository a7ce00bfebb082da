"""Catalogue reads: search (plain matching for now), a record, the libraries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from models import Copy, Library, Record
from policies.enums import CopyStatus, MaterialType
from policies.errors import ErrorCode, RuleViolation
from resolvers.context import Context

MAX_QUERY_CHARS = 200
MAX_TERMS = 10
_SEARCHED = (
    Record.title,
    Record.title_reading,
    Record.responsibility,
    Record.responsibility_reading,
    Record.publisher,
    Record.publisher_reading,
    Record.series,
    Record.isbn,
)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Narrowing a search: material types, a library, on the shelf now, publication years."""

    material_types: tuple[MaterialType, ...] = ()
    library_id: int | None = None
    available_only: bool = False
    year_from: int | None = None
    year_to: int | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results in id order, with what the connection needs."""

    records: Sequence[Record]
    total: int
    has_next: bool


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _terms(query: str) -> list[str]:
    """Whitespace-separated words (full-width space too), control characters dropped."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in query.replace("\u3000", " "))
    return [t for t in cleaned.split() if t][:MAX_TERMS]


def _conditions(query: str, filters: SearchFilters) -> list[ColumnElement[bool]]:
    if len(query) > MAX_QUERY_CHARS:
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="query", max_length=MAX_QUERY_CHARS)
    conds: list[ColumnElement[bool]] = []
    for term in _terms(query):
        pattern = f"%{_like_escape(term.lower())}%"
        conds.append(or_(*(func.lower(col).like(pattern, escape="\\") for col in _SEARCHED)))
    if filters.material_types:
        conds.append(Record.material_type.in_(filters.material_types))
    if filters.year_from is not None:
        conds.append(Record.year >= filters.year_from)
    if filters.year_to is not None:
        conds.append(Record.year <= filters.year_to)
    if filters.library_id is not None or filters.available_only:
        copy_conds: list[ColumnElement[bool]] = [Copy.record_id == Record.id]
        if filters.library_id is not None:
            copy_conds.append(Copy.library_id == filters.library_id)
        if filters.available_only:
            copy_conds.append(Copy.status == CopyStatus.AVAILABLE)
        conds.append(exists().where(and_(*copy_conds)))
    return conds


async def search(
    ctx: Context, query: str, filters: SearchFilters, first: int, after_id: int | None
) -> SearchPage:
    """Records matching every word of ``query`` in any searched field, oldest id first.

    Keyset pagination on the id, so a deep page costs what the first one does.
    """
    conds = _conditions(query, filters)
    page = select(Record).where(*conds)
    if after_id is not None:
        page = page.where(Record.id > after_id)
    page = page.order_by(Record.id).limit(first + 1)
    async with ctx.services.sessions() as db:
        rows = list((await db.execute(page)).scalars().all())
        total = (
            await db.execute(select(func.count()).select_from(Record).where(*conds))
        ).scalar_one()
    for row in rows:
        ctx.loaders.record.prime(row.id, row)
    return SearchPage(records=rows[:first], total=int(total), has_next=len(rows) > first)


async def record(ctx: Context, record_id: int) -> Record | None:
    """One record by id."""
    row: Record | None = await ctx.loaders.record.load(record_id)
    return row


async def libraries(ctx: Context) -> Sequence[Library]:
    """Every library, in display order."""
    async with ctx.services.sessions() as db:
        rows = (
            (await db.execute(select(Library).order_by(Library.position, Library.id)))
            .scalars()
            .all()
        )
    for row in rows:
        ctx.loaders.library.prime(row.id, row)
    return rows


async def calendar_exceptions(ctx: Context, library_id: int) -> dict[date, bool]:
    """A library's dated calendar exceptions (holidays and extra opening days)."""
    days = await ctx.loaders.calendar_by_library.load(library_id)
    return {d.day: d.is_open for d in days}
