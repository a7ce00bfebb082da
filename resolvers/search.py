"""Catalogue search over the bigram index (see :mod:`policies.folding`, :mod:`models.search`).

A search is answered from posting bitmaps: one query fetches every key it needs, the
bitmaps are intersected in memory, and only the page of titles is read from ``records``.
Queries of three or more kana/kanji match by their pairs, which may also occur apart, so
those candidates are checked against the stored folded text before anything is counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pyroaring import BitMap
from sqlalchemy import ColumnElement, and_, or_, select, tuple_

from models import Copy, Record, RecordSearch, SearchPosting
from policies.enums import CopyStatus, MaterialType, SearchSort
from policies.errors import ErrorCode, RuleViolation
from policies.folding import Term, query_terms
from policies.isbn import isbn13
from resolvers import catalogue
from resolvers.context import Context
from resolvers.search_index import ALL, FIELDS

MAX_QUERY_CHARS = 200
MAX_TERMS = 16  # words past this are ignored
MIN_PREFIX = 3  # "ab*" would name too many words to be useful
MAX_EXPANSION = 200  # words one "prefix*" may stand for
CHECK_LIMIT = 50_000  # candidates checked against the text; past it, pairs decide
IN_MEMORY_SORT = 5_000  # results sorted after reading their keys; more walk the sort index
_CHUNK = 1000
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


@dataclass(frozen=True, slots=True)
class _Clause:
    fields: tuple[str, ...]
    term: Term


def _clauses(request: SearchRequest) -> list[_Clause] | None:
    """The clauses to AND; ``None`` when text was given but nothing in it is searchable
    (only punctuation, say), which matches nothing."""
    texts = [
        (request.query, FIELDS),
        (request.title, ("t",)),
        (request.author, ("a",)),
        (request.publisher, ("p",)),
        (request.subject, ("s",)),
    ]
    clauses: list[_Clause] = []
    given = False
    for name, text in zip(("query", "title", "author", "publisher", "subject"), texts, strict=True):
        if len(text[0]) > MAX_QUERY_CHARS:
            raise RuleViolation(ErrorCode.INVALID_INPUT, field=name, max_length=MAX_QUERY_CHARS)
        if text[0].strip():
            given = True
        for term in query_terms(_printable(text[0])):
            clauses.append(_Clause(("i",) if term.isbn else text[1], term))
    if request.isbn.strip():
        given = True
        isbn = isbn13(request.isbn) if len(request.isbn) <= 40 else None
        if isbn is None:
            raise RuleViolation(ErrorCode.INVALID_INPUT, field="isbn")
        clauses.append(_Clause(("i",), Term(isbn, isbn=True)))
    if given and not clauses:
        return None
    return clauses[:MAX_TERMS]


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


async def search(
    ctx: Context, request: SearchRequest, first: int, after_id: int | None
) -> SearchPage:
    """Titles matching every word, in the requested order, ``first`` after ``after_id``."""
    clauses = _clauses(request)
    if clauses is None:
        return SearchPage(records=[], matches=BitMap(), has_next=False)
    async with ctx.services.sessions() as db:
        index = _Index(db)
        matches = await _match(index, clauses, request.filters)
        if request.filters.available_only:
            matches &= await _available(db, matches, request.filters.library_id)
        order = await _order(index, matches, clauses, request.sort, first + 1, after_id)
        rows = {}
        if order:
            found = await db.execute(select(Record).where(Record.id.in_(order[:first])))
            rows = {r.id: r for r in found.scalars()}
    for row in rows.values():
        ctx.loaders.record.prime(row.id, row)
    page = [rows[i] for i in order[:first] if i in rows]
    return SearchPage(records=page, matches=matches, has_next=len(order) > first)


class _Index:
    """Reads posting bitmaps, each key at most once per search."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.cache: dict[str, BitMap] = {}
        # (field letter, "prefix") -> the index keys a "prefix*" word stood for
        self.expansions: dict[tuple[str, str], list[str]] = {}

    async def load(self, keys: Iterable[str]) -> None:
        wanted = sorted(set(keys) - set(self.cache))
        parts: dict[str, list[BitMap]] = defaultdict(list)
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start : start + _CHUNK]
            stmt = select(SearchPosting.key, SearchPosting.ids).where(SearchPosting.key.in_(part))
            for key, blob in (await self.db.execute(stmt)).all():
                parts[key].append(BitMap.deserialize(blob))
        for key in wanted:
            self.cache[key] = BitMap.union(*parts[key]) if parts[key] else BitMap()

    def get(self, key: str) -> BitMap:
        return self.cache.get(key, BitMap())

    async def expand(self, prefix: str) -> list[str]:
        """Index keys that start with ``prefix`` (a field letter, ``:`` and a word start)."""
        stmt = (
            select(SearchPosting.key)
            .where(SearchPosting.key >= prefix, SearchPosting.key < prefix + "\U0010ffff")
            .distinct()
            .limit(MAX_EXPANSION)
        )
        return list((await self.db.execute(stmt)).scalars())


async def _match(index: _Index, clauses: list[_Clause], filters: SearchFilters) -> BitMap:
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
        hits = BitMap.union(*(_field_hits(index, clause, f) for f in clause.fields))
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


def _field_hits(index: _Index, clause: _Clause, letter: str) -> BitMap:
    """Titles whose ``letter`` field holds the clause's word."""
    if (letter, clause.term.text) in index.expansions:
        found = index.expansions[(letter, clause.term.text)]
        return BitMap.union(*(index.get(k) for k in found)) if found else BitMap()
    bitmaps = sorted((index.get(f"{letter}:{k}") for k in clause.term.index_grams()), key=len)
    return BitMap.intersection(*bitmaps) if len(bitmaps) > 1 else bitmaps[0]


def _years(filters: SearchFilters) -> list[int] | None:
    if filters.year_from is None and filters.year_to is None:
        return None
    low = max(filters.year_from if filters.year_from is not None else 1000, 1000)
    high = min(filters.year_to if filters.year_to is not None else 2100, 2100)
    return list(range(low, high + 1))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def _check(db: Any, candidates: BitMap, clauses: list[_Clause]) -> BitMap:
    """Keep the candidates whose folded text really holds each run of kana/kanji."""
    conds: list[ColumnElement[bool]] = [
        or_(*(_TEXT_COLUMNS[f].like(_like(c.term.text), escape="\\") for f in c.fields))
        for c in clauses
    ]
    kept = BitMap()
    ids = list(candidates)
    for start in range(0, len(ids), _CHUNK):
        stmt = select(RecordSearch.record_id).where(
            RecordSearch.record_id.in_(ids[start : start + _CHUNK]), and_(*conds)
        )
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
    found = BitMap()
    ids = list(matches)
    for start in range(0, len(ids), _CHUNK):
        part = stmt.where(Copy.record_id.in_(ids[start : start + _CHUNK]))
        found.update((await db.execute(part)).scalars())
    return found


async def _order(
    index: _Index,
    matches: BitMap,
    clauses: list[_Clause],
    sort: SearchSort,
    limit: int,
    after_id: int | None,
) -> list[int]:
    """Up to ``limit`` ids of ``matches`` in ``sort`` order, after ``after_id``."""
    if not matches:
        return []
    if sort is SearchSort.RELEVANCE:
        return _by_relevance(index, matches, clauses, limit, after_id)
    column = RecordSearch.sort_year if sort is SearchSort.NEWEST else RecordSearch.title_key
    descending = sort is SearchSort.NEWEST
    after: tuple[Any, int] | None = None
    if after_id is not None:
        rank = (
            await index.db.execute(select(column).where(RecordSearch.record_id == after_id))
        ).scalar_one_or_none()
        if rank is None:
            return []
        after = (rank, after_id)
    if len(matches) <= IN_MEMORY_SORT:
        return await _sorted_in_memory(index.db, matches, column, descending, limit, after)
    return await _walk(index.db, matches, column, descending, limit, after)


def _by_relevance(
    index: _Index, matches: BitMap, clauses: list[_Clause], limit: int, after_id: int | None
) -> list[int]:
    """Titles whose title field holds every word first, then the rest; newest id first."""
    in_title = BitMap(matches)
    for clause in clauses:
        if "t" in clause.fields:
            in_title &= _field_hits(index, clause, "t")
    tiers = [in_title, matches - in_title] if clauses else [matches]
    start = 0
    if after_id is not None:
        # A cursor whose title no longer matches restarts the first tier below its id.
        start = next((n for n, tier in enumerate(tiers) if after_id in tier), 0)
    out: list[int] = []
    for n, tier in enumerate(tiers[start:], start=start):
        end = len(tier)
        if n == start and after_id is not None:
            end = tier.rank(after_id) - (1 if after_id in tier else 0)
        need = limit - len(out)
        out += reversed(list(tier[max(0, end - need) : end]))
        if len(out) >= limit:
            break
    return out[:limit]


async def _sorted_in_memory(
    db: Any,
    matches: BitMap,
    column: Any,
    descending: bool,
    limit: int,
    after: tuple[Any, int] | None,
) -> list[int]:
    ranked: list[tuple[Any, int]] = []
    ids = list(matches)
    for start in range(0, len(ids), _CHUNK):
        stmt = select(column, RecordSearch.record_id).where(
            RecordSearch.record_id.in_(ids[start : start + _CHUNK])
        )
        ranked += [(rank, rid) for rank, rid in (await db.execute(stmt)).all()]
    ranked.sort(reverse=descending)
    if after is not None:
        ranked = [r for r in ranked if (r < after if descending else r > after)]
    return [rid for _, rid in ranked[:limit]]


async def _walk(
    db: Any,
    matches: BitMap,
    column: Any,
    descending: bool,
    limit: int,
    after: tuple[Any, int] | None,
) -> list[int]:
    """Read the sort index in order, keeping ids in ``matches``, until the page is full."""
    out: list[int] = []
    total = await _row_count(db)
    density = len(matches) / max(total, 1)
    batch = int(min(max(2_000, limit / max(density, 1e-6) * 1.5), 50_000))
    key = tuple_(column, RecordSearch.record_id)
    while len(out) < limit:
        stmt = select(column, RecordSearch.record_id)
        if after is not None:
            stmt = stmt.where(key < tuple_(*after) if descending else key > tuple_(*after))
        if descending:
            stmt = stmt.order_by(column.desc(), RecordSearch.record_id.desc())
        else:
            stmt = stmt.order_by(column, RecordSearch.record_id)
        rows = (await db.execute(stmt.limit(batch))).all()
        out += [rid for _, rid in rows if rid in matches]
        if len(rows) < batch:
            break
        after = (rows[-1][0], rows[-1][1])
    return out[:limit]


async def _row_count(db: Any) -> int:
    """Titles in the index, read off the ``*`` bitmap's rows (cheap next to a count(*))."""
    blobs = (await db.execute(select(SearchPosting.ids).where(SearchPosting.key == ALL))).scalars()
    return sum(len(BitMap.deserialize(b)) for b in blobs)


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
    async with ctx.services.sessions() as db:
        index = _Index(db)
        await index.load(k for k, _ in keys)
    counts = [(value, index.get(k).intersection_cardinality(matches)) for k, value in keys]
    return [(value, n) for value, n in counts if n]
