"""Ordering a search's matches: relevance tiers from the bitmaps, and year or title order
from the sort keys in ``record_search`` (sorted in memory for small results, by walking
the sort index for large ones). Keyset: each page starts after the previous page's last
title."""

from __future__ import annotations

from typing import Any

from pyroaring import BitMap
from sqlalchemy import select, tuple_

from models import RecordSearch, SearchPosting
from policies.enums import SearchSort
from resolvers.catalogue.postings import Clause, PostingReader
from resolvers.catalogue.search_documents import ALL
from resolvers.catalogue.search_rank import page, relevance_tiers
from resolvers.shared.id_lists import among

IN_MEMORY_SORT = 5_000  # results sorted after reading their keys; more walk the sort index


async def order(
    index: PostingReader,
    matches: BitMap,
    clauses: list[Clause],
    sort: SearchSort,
    limit: int,
    after_id: int | None,
) -> list[int]:
    """Up to ``limit`` ids of ``matches`` in ``sort`` order, after ``after_id``."""
    if not matches:
        return []
    if sort is SearchSort.RELEVANCE:
        return page(await relevance_tiers(index, matches, clauses), limit, after_id)
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


async def _sorted_in_memory(
    db: Any,
    matches: BitMap,
    column: Any,
    descending: bool,
    limit: int,
    after: tuple[Any, int] | None,
) -> list[int]:
    stmt = select(column, RecordSearch.record_id).where(among(db, RecordSearch.record_id, matches))
    ranked: list[tuple[Any, int]] = [(rank, rid) for rank, rid in (await db.execute(stmt)).all()]
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
