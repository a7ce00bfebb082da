"""Relevance order (SEARCH-5): the exact title, then titles that begin with the query, then
titles whose reading begins with it, then titles holding every word in the title field,
then the rest; within each, the form typed before a variant form, then newest first.

The titles a query begins are found from the ``^t:`` and ``^k:`` index keys (the first one
or two characters of each title and reading), so only those few are read and compared;
the large tiers stay bitmaps, paged by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyroaring import BitMap
from sqlalchemy import select

from models import Record, RecordSearch
from policies.folding import words_joined
from resolvers.postings import Clause, PostingReader, field_hits
from resolvers.search_index import title_lines

RANK_LIMIT = 2_000  # titles read and compared to rank one search; past it, keys decide
_CHUNK = 1000
Tier = list[int] | BitMap  # a list is already in order; a bitmap reads newest id first


def _query_text(clauses: list[Clause]) -> str:
    """The words that must be in the title, folded and run together, as a title's text
    is for the prefix comparison."""
    return "".join(c.term.text for c in clauses if "t" in c.fields and not c.term.isbn)


async def relevance_tiers(
    index: PostingReader, matches: BitMap, clauses: list[Clause]
) -> list[Tier]:
    """``matches`` cut into relevance tiers, best first."""
    if not clauses:
        return [matches]
    in_title = BitMap(matches)
    for clause in clauses:
        in_title &= field_hits(index, clause, "t") if "t" in clause.fields else BitMap()
    query = _query_text(clauses)
    if not query or not in_title:
        return [in_title, matches - in_title]
    keys = (f"^t:{query[:2]}", f"^k:{query[:2]}")
    await index.load(keys)
    t_start, k_start = (index.get(k) & in_title for k in keys)
    begins = t_start | k_start
    raw = [c.term.raw for c in clauses if "t" in c.fields and c.term.raw]
    if len(begins) + len(in_title) > RANK_LIMIT:
        if len(begins) > RANK_LIMIT:
            # Too many to read: for a query of one or two characters the keys are the
            # whole comparison; longer ones go without the prefix tiers.
            head = [t_start, k_start - t_start] if len(query) <= 2 else []
            rest = in_title - begins if len(query) <= 2 else in_title
            return [*head, rest, matches - in_title]
        ranked = await _rank(index.db, begins, query, raw)
        return [ranked, in_title - BitMap(ranked), matches - in_title]
    ranked = await _rank(index.db, in_title, query, raw)
    return [ranked, matches - in_title]


async def _rank(db: Any, ids: BitMap, query: str, raw: list[str]) -> list[int]:
    """``ids`` in relevance order, read and compared one by one."""
    keyed: list[tuple[int, bool, int]] = []
    for part in _chunks(list(ids)):
        stmt = (
            select(RecordSearch.record_id, RecordSearch.title_text, Record.title)
            .join(Record, Record.id == RecordSearch.record_id)
            .where(RecordSearch.record_id.in_(part))
        )
        for record_id, text, title in (await db.execute(stmt)).all():
            folded, reading = (words_joined(line) for line in title_lines(text))
            if folded == query:
                tier = 0
            elif folded.startswith(query):
                tier = 1
            elif reading.startswith(query):
                tier = 2
            else:
                tier = 3
            typed = all(word in title for word in raw)
            keyed.append((tier, not typed, -record_id))
    keyed.sort()
    return [-negative for _, _, negative in keyed]


def _chunks(items: Sequence[int]) -> list[Sequence[int]]:
    return [items[n : n + _CHUNK] for n in range(0, len(items), _CHUNK)]


def page(tiers: list[Tier], limit: int, after_id: int | None) -> list[int]:
    """Up to ``limit`` ids after ``after_id`` through the tiers in order. A cursor whose
    title no longer matches restarts the first bitmap tier below its id."""
    start = 0
    if after_id is not None:
        found = [n for n, tier in enumerate(tiers) if after_id in tier]
        bitmaps = [n for n, tier in enumerate(tiers) if isinstance(tier, BitMap)]
        start = found[0] if found else (bitmaps[0] if bitmaps else len(tiers))
    out: list[int] = []
    for n, tier in enumerate(tiers[start:], start=start):
        need = limit - len(out)
        if need <= 0:
            break
        cursor = after_id if n == start else None
        if isinstance(tier, BitMap):
            end = len(tier)
            if cursor is not None:
                end = tier.rank(cursor) - (1 if cursor in tier else 0)
            out += reversed(list(tier[max(0, end - need) : end]))
        else:
            begin = tier.index(cursor) + 1 if cursor is not None else 0
            out += tier[begin : begin + need]
    return out[:limit]
