"""Catalogue search over the bigram index (see :mod:`policies.folding`, :mod:`models.search`).

A search is answered from posting bitmaps: one query fetches every key it needs, the
bitmaps are intersected in memory, and only the page of titles is read from ``records``.
Queries of three or more kana/kanji match by their pairs, which may also occur apart, so
those candidates are checked against the stored folded text before anything is counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pyroaring import BitMap
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Copy, Record, RecordSearch
from models.driver_reads import fetch_in
from policies.enums import CopyStatus, MaterialType, SearchSort
from policies.errors import ErrorCode, RuleViolation
from policies.folding import Term, query_terms
from policies.isbn import isbn13
from resolvers.catalogue import catalogue
from resolvers.catalogue.postings import Clause, PostingReader, field_hits
from resolvers.catalogue.search_documents import ALL, FIELDS
from resolvers.catalogue.search_order import IN_MEMORY_SORT, order
from resolvers.shared.context import Context
from resolvers.shared.id_lists import SQLITE_MAX_VALUES, among
from resolvers.shared.loaders import by_id

MAX_QUERY_CHARS = 200
MAX_TERMS = 16  # words past this are ignored
MIN_PREFIX = 3  # "ab*" would name too many words to be useful
CHECK_LIMIT = 50_000  # candidates checked against the text; past it, pairs decide
T = TypeVar("T")
_TEXT_COLUMNS = {
    "t": RecordSearch.title_text,
    "a": RecordSearch.author_text,
    "p": RecordSearch.publisher_text,
    "s": RecordSearch.subject_text,
}


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Narrowing a search: material types, a library, on the shelf now, publication years."""

    material_types: tuple[MaterialType, ...] = ()
    library_id: int | None = None
    available_only: bool = False
    year_from: int | None = None
    year_to: int | None = None


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What to look for: ``query`` in any field, and optional per-field queries (ANDed)."""

    query: str = ""
    title: str = ""
    author: str = ""
    publisher: str = ""
    subject: str = ""
    isbn: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: SearchSort = SearchSort.RELEVANCE


@dataclass(slots=True)
class SearchPage:
    """One page of results, the whole match set (for counts and facets) and the cursor."""

    records: Sequence[Record]
    matches: BitMap
    has_next: bool

    @property
    def total(self) -> int:
        """How many titles match in all."""
        return len(self.matches)


def clauses_of(request: SearchRequest) -> list[Clause] | None:
    """The clauses to AND; ``None`` when text was given but nothing in it is searchable
    (only punctuation, say), which matches nothing."""
    texts = [
        (request.query, FIELDS),
        (request.title, ("t",)),
        (request.author, ("a",)),
        (request.publisher, ("p",)),
        (request.subject, ("s",)),
    ]
    clauses: list[Clause] = []
    given = False
    for name, text in zip(("query", "title", "author", "publisher", "subject"), texts, strict=True):
        if len(text[0]) > MAX_QUERY_CHARS:
            raise RuleViolation(ErrorCode.INVALID_INPUT, field=name, max_length=MAX_QUERY_CHARS)
        if text[0].strip():
            given = True
        for term in query_terms(_printable(text[0])):
            clauses.append(Clause(("i",) if term.isbn else text[1], term))
    if request.isbn.strip():
        given = True
        isbn = isbn13(request.isbn) if len(request.isbn) <= 40 else None
        if isbn is None:
            raise RuleViolation(ErrorCode.INVALID_INPUT, field="isbn")
        clauses.append(Clause(("i",), Term(isbn, isbn=True)))
    if given and not clauses:
        return None
    return clauses[:MAX_TERMS]


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


async def search(
    ctx: Context, request: SearchRequest, first: int, after_id: int | None
) -> SearchPage:
    """Titles matching every word, in the requested order, ``first`` after ``after_id``."""
    page = await run_search(ctx.reads, request, first, after_id)
    for row in page.records:
        ctx.loaders.record.prime(row.id, row)
    return page


async def run_search(
    sessions: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    request: SearchRequest,
    first: int,
    after_id: int | None,
) -> SearchPage:
    """:func:`search` without a request context (the benchmark calls this with a session
    factory; a request passes its read session)."""
    clauses = clauses_of(request)
    if clauses is None:
        return SearchPage(records=[], matches=BitMap(), has_next=False)
    async with sessions() as db:
        index = PostingReader(db)
        matches = await match(index, clauses, request.filters)
        if request.filters.available_only:
            matches &= await _available(db, matches, request.filters.library_id)
        ranked = await order(index, matches, clauses, request.sort, first + 1, after_id)
        rows = {}
        if ranked:
            found = await fetch_in(db, by_id(Record), ranked[:first])
            rows = {r.id: r for r in found}
    page = [rows[i] for i in ranked[:first] if i in rows]
    return SearchPage(records=page, matches=matches, has_next=len(ranked) > first)


async def match(index: PostingReader, clauses: list[Clause], filters: SearchFilters) -> BitMap:
    """Titles matching every clause and the filters."""
    keys: set[str] = set() if clauses else {ALL}
    for clause in clauses:
        for letter in clause.fields:
            term = clause.term
            if term.prefix and len(term.text) >= MIN_PREFIX:
                found = await index.expand(f"{letter}:{term.text}")
                index.expansions[(letter, term.text)] = found
                keys.update(found)
            else:
                keys.update(f"{letter}:{k}" for k in term.index_grams())
    facet_keys = [f"m:{m.value}" for m in filters.material_types]
    if filters.library_id is not None:
        facet_keys.append(f"l:{filters.library_id}")
    years = _years(filters)
    await index.load([*keys, *facet_keys, *(f"y:{y}" for y in years or ())])
    result = index.get(ALL) if not clauses else None
    for clause in clauses:
        hits = BitMap.union(*(field_hits(index, clause, f) for f in clause.fields))
        result = hits if result is None else result & hits
    assert result is not None
    if filters.material_types:
        result &= BitMap.union(*(index.get(f"m:{m.value}") for m in filters.material_types))
    if filters.library_id is not None:
        result &= index.get(f"l:{filters.library_id}")
    if years is not None:
        result &= BitMap.union(*(index.get(f"y:{y}") for y in years)) if years else BitMap()
    inexact = [c for c in clauses if not c.term.exact]
    if inexact and 0 < len(result) <= CHECK_LIMIT:
        result = await _check(index.db, result, inexact)
    return result


def _years(filters: SearchFilters) -> list[int] | None:
    if filters.year_from is None and filters.year_to is None:
        return None
    low = max(filters.year_from if filters.year_from is not None else 1000, 1000)
    high = min(filters.year_to if filters.year_to is not None else 2100, 2100)
    return list(range(low, high + 1))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def _check(db: Any, candidates: BitMap, clauses: list[Clause]) -> BitMap:
    """Keep the candidates whose folded text really holds each run of kana/kanji."""
    conds: list[ColumnElement[bool]] = [
        or_(*(_TEXT_COLUMNS[f].like(_like(c.term.text), escape="\\") for f in c.fields))
        for c in clauses
    ]
    kept = BitMap()
    ids = list(candidates)
    for start in range(0, len(ids), SQLITE_MAX_VALUES):
        part = ids[start : start + SQLITE_MAX_VALUES]
        stmt = select(RecordSearch.record_id).where(among(db, RecordSearch.record_id, part), *conds)
        kept.update((await db.execute(stmt)).scalars())
    return kept


async def _available(db: Any, matches: BitMap, library_id: int | None) -> BitMap:
    """Titles among ``matches`` with a copy on the shelf now (at ``library_id`` if given)."""
    conds: list[ColumnElement[bool]] = [Copy.status == CopyStatus.AVAILABLE]
    if library_id is not None:
        conds.append(Copy.library_id == library_id)
    stmt = select(Copy.record_id).where(*conds).distinct()
    if len(matches) > IN_MEMORY_SORT:
        return BitMap((await db.execute(stmt)).scalars())
    return BitMap((await db.execute(stmt.where(among(db, Copy.record_id, matches)))).scalars())


async def material_type_counts(ctx: Context, matches: BitMap) -> list[tuple[MaterialType, int]]:
    """How many of ``matches`` are of each material type, most first."""
    counts = await _facet_counts(ctx, matches, [(f"m:{m.value}", m) for m in MaterialType])
    return sorted(counts, key=lambda c: (-c[1], c[0].value))


async def library_counts(ctx: Context, matches: BitMap) -> list[tuple[int, int]]:
    """How many of ``matches`` have a copy at each library, most first."""
    libraries = await catalogue.libraries(ctx)
    counts = await _facet_counts(ctx, matches, [(f"l:{lib.id}", lib.id) for lib in libraries])
    return sorted(counts, key=lambda c: (-c[1], c[0]))


async def _facet_counts(
    ctx: Context, matches: BitMap, keys: list[tuple[str, T]]
) -> list[tuple[T, int]]:
    if not matches:
        return []
    async with ctx.reads() as db:
        index = PostingReader(db)
        await index.load(k for k, _ in keys)
    counts = [(value, index.get(k).intersection_cardinality(matches)) for k, value in keys]
    return [(value, n) for value, n in counts if n]
