"""Relevance order (SEARCH-5): the exact title, then titles that begin with the query, then
titles whose reading begins with it, then titles holding every word in the title field,
then the rest; within each, the form typed before a variant form, then newest first.

The titles a query begins are found from the ``^t:`` and ``^k:`` index keys (the first one
or two characters of each title and reading), so only those few are read and compared;
the large tiers stay bitmaps, paged by id.
"""

from __future__ import annotations

from typing import Any

from pyroaring import BitMap
from sqlalchemy import func, select

from models import Record, RecordSearch
from policies.folding import words_joined
from policies.variants import VARIANT_KANJI
from resolvers.catalogue.postings import Clause, PostingReader, field_hits
from resolvers.catalogue.search_documents import VARIANT, title_lines
from resolvers.shared.id_lists import among

RANK_LIMIT = 2_000  # titles read and compared to rank one search; past it, keys decide
EXACT_SLACK = 8  # characters past a short query read to tell an exact title
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
    await index.load([*keys, VARIANT])
    t_start, k_start = (index.get(k) & in_title for k in keys)
    begins = t_start | k_start
    raw = [c.term.raw for c in clauses if "t" in c.fields and c.term.raw]
    if len(query) <= 2:  # the keys are the whole comparison but for the exact title
        head = await _short_tiers(index, t_start, k_start - t_start, query, raw)
    elif len(begins) <= RANK_LIMIT:
        ranked = await _rank(index.db, begins, query, raw)
        head = [ranked]
        begins = BitMap(ranked)
    else:  # too many to read: no prefix tiers
        head, begins = [], BitMap()
    rest = in_title - begins
    variant = await _variant_forms(index, rest, raw)
    return [*head, rest - variant, variant, matches - in_title]


async def _short_tiers(
    index: PostingReader, t_start: BitMap, k_start: BitMap, query: str, raw: list[str]
) -> list[Tier]:
    """The prefix tiers of a query of one or two characters, whose ``^t:``/``^k:`` keys
    say which titles begin with it: only the exact titles are read to be told apart, and
    the form typed goes first in each tier."""
    exact = (
        await _exact_titles(index.db, t_start, query) if len(t_start) <= RANK_LIMIT else BitMap()
    )
    tiers: list[Tier] = []
    for tier in (exact, t_start - exact, k_start):
        untyped = await _untyped(index, tier, raw)
        tiers += [tier - untyped, untyped]
    return tiers


async def _untyped(index: PostingReader, ids: BitMap, raw: list[str]) -> BitMap:
    """Those of ``ids`` whose title does not hold the words as typed (folding matched
    them: another kanji form, kana or width). Kanji typed in standard form can only differ
    in a title holding a variant kanji (the ``^v`` key); other words are checked on every
    title."""
    standard = all(_is_kanji(ch) and ch not in VARIANT_KANJI for word in raw for ch in word)
    return await _not_as_typed(index.db, ids & index.get(VARIANT) if standard else ids, raw)


def _is_kanji(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f"


async def _typed(db: Any, ids: BitMap, raw: list[str]) -> BitMap:
    """Those of ``ids`` whose title holds every word as typed."""
    stmt = select(Record.id).where(
        among(db, Record.id, ids), *(Record.title.contains(w, autoescape=True) for w in raw)
    )
    return BitMap((await db.execute(stmt)).scalars())


async def _exact_titles(db: Any, ids: BitMap, query: str) -> BitMap:
    """Those of ``ids`` (titles beginning with ``query``) whose title is the query itself.
    Only the start of each folded title is read: past the query's length and the spaces
    and marks a title may carry around it, a title is longer than the query."""
    head = func.substr(RecordSearch.title_text, 1, len(query) + EXACT_SLACK)
    exact = BitMap()
    stmt = select(RecordSearch.record_id, head).where(among(db, RecordSearch.record_id, ids))
    for record_id, start in (await db.execute(stmt)).all():
        line, ended, _ = start.partition("\n")
        if (ended or len(start) < len(query) + EXACT_SLACK) and words_joined(line) == query:
            exact.add(record_id)
    return exact


async def _variant_forms(index: PostingReader, ids: BitMap, raw: list[str]) -> BitMap:
    """Those of ``ids`` whose title holds a word only in another form than typed (江戶 for
    江戸). Only titles holding a variant kanji can (the ``^v`` key), unless the patron
    typed one."""
    typed_variant = any(ch in VARIANT_KANJI for word in raw for ch in word)
    return await _not_as_typed(index.db, ids if typed_variant else ids & index.get(VARIANT), raw)


async def _not_as_typed(db: Any, suspects: BitMap, raw: list[str]) -> BitMap:
    """Those of ``suspects`` whose title does not hold every word as typed; up to
    RANK_LIMIT are checked, else none are told apart. Latin letters are not told apart by
    case (SQLite's LIKE ignores it, PostgreSQL's does not: both databases must answer
    alike)."""
    if not raw or all(word.isascii() for word in raw):
        return BitMap()
    if not suspects or len(suspects) > RANK_LIMIT:
        return BitMap()
    return suspects - await _typed(db, suspects, raw)


async def _rank(db: Any, ids: BitMap, query: str, raw: list[str]) -> list[int]:
    """Those of ``ids`` (titles the query may begin) that do, in order: exact title, title
    prefix, reading prefix; the typed form first in each; newest first."""
    keyed: list[tuple[int, bool, int]] = []
    stmt = (
        select(RecordSearch.record_id, RecordSearch.title_text, Record.title)
        .join(Record, Record.id == RecordSearch.record_id)
        .where(among(db, RecordSearch.record_id, ids))
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
            continue  # only the first characters were alike
        typed = all(word in title for word in raw)
        keyed.append((tier, not typed, -record_id))
    keyed.sort()
    return [-negative for _, _, negative in keyed]


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
