"""Help for a search that found nothing: which words matched nothing on their own, and what
the other words find (SEARCH-8)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Record
from policies.enums import SearchSort
from resolvers.catalogue.postings import PostingReader
from resolvers.catalogue.search import SearchRequest, clauses_of, match
from resolvers.catalogue.search_order import order

MAX_HITS = 10  # titles shown for the other words


@dataclass(frozen=True, slots=True)
class SearchHelp:
    """Words (as typed) that match no title with the filters given, how many titles the
    remaining words find together, and the best few of them."""

    unmatched_words: list[str]
    other_words_count: int
    other_words_hits: Sequence[Record]


async def search_help(
    sessions: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    request: SearchRequest,
    first: int,
) -> SearchHelp | None:
    """``None`` when every word matches some title (they only miss each other) or the
    search had no words."""
    clauses = clauses_of(request)
    if not clauses:
        return None
    async with sessions() as db:
        index = PostingReader(db)
        missing = [c for c in clauses if not await match(index, [c], request.filters)]
        if not missing:
            return None
        others = [c for c in clauses if c not in missing]
        found = await match(index, others, request.filters) if others else None
        hits: Sequence[Record] = []
        if found:
            ids = await order(
                index, found, others, SearchSort.RELEVANCE, min(first, MAX_HITS), None
            )
            rows = {
                r.id: r
                for r in (await db.execute(select(Record).where(Record.id.in_(ids)))).scalars()
            }
            hits = [rows[i] for i in ids if i in rows]
    words = list(dict.fromkeys(c.term.raw or c.term.text for c in missing))
    return SearchHelp(words, len(found) if found else 0, hits)
