"""Reading posting bitmaps for one search: each key fetched at most once, and the titles
one query word matches in one field."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyroaring import BitMap
from sqlalchemy import select

from models import SearchPosting
from models.driver_reads import KEYS, DriverSelect, fetch_in
from policies.folding import Term

MAX_EXPANSION = 200  # words one "prefix*" may stand for
_CHUNK = 1000
# A search's bitmaps by key, read by the driver (models/driver_reads.py): the statement
# built once per key count, without SQLAlchemy's execution path for every search.
_POSTINGS = DriverSelect(
    select(SearchPosting.key, SearchPosting.ids).where(SearchPosting.key.in_(KEYS))
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One query word and the fields (index letters) it may match in."""

    fields: tuple[str, ...]
    term: Term


class PostingReader:
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
            for key, blob in await fetch_in(self.db, _POSTINGS, wanted[start : start + _CHUNK]):
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


def field_hits(index: PostingReader, clause: Clause, letter: str) -> BitMap:
    """Titles whose ``letter`` field holds the clause's word."""
    if (letter, clause.term.text) in index.expansions:
        found = index.expansions[(letter, clause.term.text)]
        return BitMap.union(*(index.get(k) for k in found)) if found else BitMap()
    bitmaps = sorted((index.get(f"{letter}:{k}") for k in clause.term.index_grams()), key=len)
    return BitMap.intersection(*bitmaps) if len(bitmaps) > 1 else bitmaps[0]
