"""The baseline of bench/search.py: what a DBA would set up for catalogue search without
Hondana's index, over the same text the index sees.

PostgreSQL: one text column per title with a generated ``tsvector`` ('simple'
configuration: no stemming, since titles are in many languages) under a GIN index for words
of Latin script, and a ``pg_trgm`` GIN index for everything else (``ILIKE '%word%'``, which
the trigram index serves from 3 characters up). SQLite: an FTS5 table with the trigram
tokenizer (``MATCH`` on a quoted phrase from 3 characters up, ``LIKE`` below, as SQLite's
documentation advises). Every word must match (AND); a search returns the count and the
first 20 titles, newest first, as Hondana's search does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

COLUMNS = [
    "title",
    "title_reading",
    "title_kana",
    "responsibility",
    "responsibility_reading",
    "responsibility_kana",
    "publisher",
    "publisher_reading",
    "publisher_kana",
    "series",
    "subjects",
    "subject_class",
    "isbn",
]
# Kana readings as the index holds them, one run without spaces, so that a reading typed
# without spaces can match here too.
_BODY = " || ' ' || ".join(
    f"coalesce(replace({c}, ' ', ''), '')" if c.endswith("_kana") else f"coalesce({c}, '')"
    for c in COLUMNS
)


async def build(engine: AsyncEngine) -> None:
    """(Re)create the baseline table and its indexes from ``records``."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for statement in (
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "DROP TABLE IF EXISTS baseline_text",
                "CREATE TABLE baseline_text (id integer PRIMARY KEY, body text NOT NULL,"
                " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)",
                f"INSERT INTO baseline_text (id, body) SELECT id, {_BODY} FROM records",  # noqa: S608
                "CREATE INDEX baseline_trgm ON baseline_text USING gin (body gin_trgm_ops)",
                "CREATE INDEX baseline_tsv ON baseline_text USING gin (tsv)",
                "ANALYZE baseline_text",
            ):
                await conn.execute(text(statement))
        else:
            for statement in (
                "DROP TABLE IF EXISTS baseline_fts",
                "CREATE VIRTUAL TABLE baseline_fts USING fts5(body, tokenize='trigram')",
                f"INSERT INTO baseline_fts (rowid, body) SELECT id, {_BODY} FROM records",  # noqa: S608
            ):
                await conn.execute(text(statement))


async def index_bytes(engine: AsyncEngine) -> int:
    """Bytes the baseline takes on disk (table and indexes)."""
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            query = "SELECT pg_total_relation_size(to_regclass('baseline_text'))"  # NULL: none
        else:
            query = "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'baseline_fts%'"
        return int((await conn.execute(text(query))).scalar_one() or 0)


# SQL is built from the constants above; the words are always bound as parameters.
def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(dialect: str, query: str) -> tuple[str, dict[str, Any]]:
    words = query.split()
    conds: list[str] = []
    params: dict[str, Any] = {}
    if dialect == "postgresql":
        for n, word in enumerate(words):
            if word.isascii() and word.isalnum():
                conds.append(f"tsv @@ plainto_tsquery('simple', :w{n})")
                params[f"w{n}"] = word
            else:
                conds.append(f"body ILIKE :w{n}")
                params[f"w{n}"] = _like(word)
        return " AND ".join(conds) or "true", params
    phrases = [w for w in words if len(w) >= 3]
    if phrases:
        conds.append("baseline_fts MATCH :m")
        params["m"] = " AND ".join('"' + w.replace('"', '""') + '"' for w in phrases)
    for n, word in enumerate(w for w in words if len(w) < 3):
        conds.append(f"body LIKE :w{n} ESCAPE '\\'")
        params[f"w{n}"] = _like(word)
    return " AND ".join(conds) or "1", params


def _table(dialect: str) -> tuple[str, str]:
    return ("baseline_text", "id") if dialect == "postgresql" else ("baseline_fts", "rowid")


async def search(engine: AsyncEngine, query: str) -> tuple[int, list[int]]:
    """(count, first 20 ids newest first) for ``query``, as a search page needs."""
    table, key = _table(engine.dialect.name)
    where, params = _where(engine.dialect.name, query)
    async with engine.connect() as conn:
        count = f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608
        total = (await conn.execute(text(count), params)).scalar_one()
        page = await conn.execute(
            text(f"SELECT {key} FROM {table} WHERE {where} ORDER BY {key} DESC LIMIT 20"),  # noqa: S608
            params,
        )
        return int(total), [int(i) for i in page.scalars()]


async def every_id(engine: AsyncEngine, query: str) -> set[int]:
    """Every id the baseline finds for ``query`` (for recall; not timed)."""
    table, key = _table(engine.dialect.name)
    where, params = _where(engine.dialect.name, query)
    async with engine.connect() as conn:
        sql = f"SELECT {key} FROM {table} WHERE {where}"  # noqa: S608
        rows = await conn.execute(text(sql), params)
        return {int(i) for i in rows.scalars()}
