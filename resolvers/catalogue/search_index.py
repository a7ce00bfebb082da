"""Writing the search index: each title's folded text and the posting bitmaps of its keys.

Every path that changes a title or its copies calls :func:`sync` (or, for a bulk import of
new titles, :func:`add_documents`) inside its own transaction, so the index is never behind
the catalogue. See :mod:`models.search` for the layout.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from pyroaring import BitMap
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Copy, Record, RecordSearch, SearchPosting
from models.base import table
from models.db import bulk_insert
from policies.enums import CopyStatus
from resolvers.catalogue.search_documents import Document, document, refresh_readings

BLOCK_BITS = 16  # 65,536 record ids per bitmap row
_CHUNK = 500  # ids or keys per IN (...) list
T = TypeVar("T")


async def _documents(db: AsyncSession, records: Sequence[Record]) -> list[Document]:
    """Documents of titles read from the database, with the libraries of their copies."""
    libraries: dict[int, set[int]] = defaultdict(set)
    holdings = select(Copy.record_id, Copy.library_id).where(
        Copy.record_id.in_([r.id for r in records]), Copy.status != CopyStatus.WITHDRAWN
    )
    for record_id, library_id in (await db.execute(holdings)).all():
        libraries[record_id].add(library_id)
    return [document(r, libraries[r.id]) for r in records]


def _stored_keys(row: RecordSearch) -> set[str]:
    texts = (row.title_text, row.author_text, row.publisher_text, row.subject_text)
    return Document(row.record_id, "", 0, texts, tuple(row.facets.split())).index_keys()


def _by_block(pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
    grouped: dict[tuple[str, int], list[int]] = defaultdict(list)
    for key, record_id in pairs:
        grouped[(key, record_id >> BLOCK_BITS)].append(record_id)
    return grouped


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def add_documents(db: AsyncSession, docs: Sequence[Document]) -> None:
    """Index titles the index has never seen: one posting row per key and block for the
    whole batch, appended without reading anything."""
    postings: dict[str, list[int]] = defaultdict(list)
    for doc in docs:
        for key in doc.index_keys():
            postings[key].append(doc.record_id)
    await add_postings(db, docs, postings)


async def add_postings(
    db: AsyncSession, docs: Sequence[Document], postings: Mapping[str, BitMap | list[int]]
) -> None:
    """:func:`add_documents` with the key-to-ids lists already worked out (a bulk import
    prepares them in worker processes)."""
    if not docs:
        return
    await bulk_insert(db, table(RecordSearch), [d.row() for d in docs])
    rows = []
    for key, ids in postings.items():
        bitmap = ids if isinstance(ids, BitMap) else BitMap(ids)
        if not bitmap:
            continue
        first, last = bitmap.min() >> BLOCK_BITS, bitmap.max() >> BLOCK_BITS
        if first == last:  # the usual case: a batch's new ids are consecutive
            rows.append({"key": key, "block": first, "ids": _serialise(bitmap)})
            continue
        for block in range(first, last + 1):
            part = bitmap & BitMap(range(block << BLOCK_BITS, (block + 1) << BLOCK_BITS))
            if part:
                rows.append({"key": key, "block": block, "ids": _serialise(part)})
    await bulk_insert(db, table(SearchPosting), rows)


async def sync(db: AsyncSession, record_ids: Iterable[int], *, gone: bool = False) -> None:
    """Bring the index up to date for these titles after any change to them or their
    copies, deletion included: only keys that changed are touched, each existing bitmap
    row is rewritten under a row lock, and a key new to its block gets a row. With
    ``gone`` the titles are about to be deleted: they leave the index first, since its
    rows refer to them."""
    ids = sorted(set(record_ids))
    if not ids:
        return
    old: dict[int, RecordSearch] = {}
    fresh: dict[int, Document] = {}
    for part in _chunks(ids):
        rows = await db.execute(select(RecordSearch).where(RecordSearch.record_id.in_(part)))
        old.update((r.record_id, r) for r in rows.scalars())
        if gone:
            continue
        records = (await db.execute(select(Record).where(Record.id.in_(part)))).scalars().all()
        fresh.update((d.record_id, d) for d in await _documents(db, records))
    removed: list[tuple[str, int]] = []
    added: list[tuple[str, int]] = []
    for record_id in ids:
        before = _stored_keys(old[record_id]) if record_id in old else set()
        after = fresh[record_id].index_keys() if record_id in fresh else set()
        removed += ((k, record_id) for k in before - after)
        added += ((k, record_id) for k in after - before)
    await _rewrite(db, _by_block(removed), _by_block(added))
    if old:
        await db.execute(delete(RecordSearch).where(RecordSearch.record_id.in_(list(old))))
    if fresh:
        await bulk_insert(db, table(RecordSearch), [d.row() for d in fresh.values()])


async def _locked_rows(
    db: AsyncSession, slots: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], list[tuple[int, bytes]]]:
    """(row id, bitmap) of every posting row of these (key, block) slots, oldest first,
    locked for the rest of the transaction. Looked up by key (the index's first column)
    and filtered by block here: a (key, block) IN list defeats SQLite's index."""
    blocks: dict[str, set[int]] = defaultdict(set)
    for key, block in slots:
        blocks[key].add(block)
    rows: dict[tuple[str, int], list[tuple[int, bytes]]] = defaultdict(list)
    for part in _chunks(sorted(blocks)):
        stmt = (
            select(SearchPosting.id, SearchPosting.key, SearchPosting.block, SearchPosting.ids)
            .where(SearchPosting.key.in_(part))
            .order_by(SearchPosting.id)
            .with_for_update()
        )
        for row_id, key, block, blob in (await db.execute(stmt)).all():
            if block in blocks[key]:
                rows[(key, block)].append((row_id, blob))
    return rows


async def _write(
    db: AsyncSession,
    changed: list[tuple[int, BitMap]],
    emptied: list[int],
    fresh: list[dict[str, object]],
) -> None:
    """Apply rewritten, emptied and new posting rows, each kind in one statement."""
    posting = table(SearchPosting)
    if changed:
        await db.execute(
            update(posting)
            .where(posting.c.id == bindparam("row_id"))
            .values(ids=bindparam("blob")),
            [{"row_id": i, "blob": _serialise(b)} for i, b in changed],
        )
    for part in _chunks(emptied):
        await db.execute(delete(posting).where(posting.c.id.in_(part)))
    await bulk_insert(db, posting, fresh)


async def _rewrite(
    db: AsyncSession,
    removed: dict[tuple[str, int], list[int]],
    added: dict[tuple[str, int], list[int]],
) -> None:
    touched = sorted(set(removed) | set(added))
    rows = await _locked_rows(db, touched)
    changed: list[tuple[int, BitMap]] = []
    emptied: list[int] = []
    fresh: list[dict[str, object]] = []
    for slot in touched:
        gone, new = BitMap(removed.get(slot, [])), BitMap(added.get(slot, []))
        existing = rows.get(slot, [])
        if not existing:
            if new:
                fresh.append({"key": slot[0], "block": slot[1], "ids": _serialise(new)})
            continue
        for n, (row_id, blob) in enumerate(existing):
            bitmap = BitMap.deserialize(blob)
            after = (bitmap - gone) | new if n == 0 else bitmap - gone
            if not after:
                emptied.append(row_id)
            elif after != bitmap:
                changed.append((row_id, after))
    await _write(db, changed, emptied, fresh)


def _serialise(bitmap: BitMap) -> bytes:
    bitmap.run_optimize()
    return bytes(bitmap.serialize())


async def compact(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Merge the rows of every key and block that has more than one (a bulk import leaves
    one per batch); returns how many rows were merged away. One transaction per thousand
    keys: at a million titles the whole merge takes minutes, and each step is complete
    on its own (a key's rows are locked, united and rewritten together), so searches and
    staff edits go on beside it and an interrupted run keeps what it merged."""
    async with sessions() as db:
        slots = (
            await db.execute(
                select(SearchPosting.key, SearchPosting.block)
                .group_by(SearchPosting.key, SearchPosting.block)
                .having(func.count() > 1)
            )
        ).all()
    merged = 0
    for part in _chunks([(key, block) for key, block in slots]):
        async with sessions() as db, db.begin():
            merged += await _merge(db, part)
    return merged


async def _merge(db: AsyncSession, slots: Sequence[tuple[str, int]]) -> int:
    changed: list[tuple[int, BitMap]] = []
    emptied: list[int] = []
    for group in (await _locked_rows(db, slots)).values():
        if len(group) < 2:  # merged meanwhile by another run
            continue
        union = BitMap.union(*(BitMap.deserialize(blob) for _, blob in group))
        changed.append((group[0][0], union))
        emptied += [row_id for row_id, _ in group[1:]]
    await _write(db, changed, emptied, [])
    return len(emptied)


async def rebuild(db: AsyncSession, batch: int = 2000) -> int:
    """Drop and rebuild the whole index from the catalogue, each title's readings worked
    out again on the way; returns how many titles."""
    await db.execute(delete(SearchPosting))
    await db.execute(delete(RecordSearch))
    done, after = 0, 0
    while True:
        records = (
            (
                await db.execute(
                    select(Record).where(Record.id > after).order_by(Record.id).limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not records:
            return done
        for record in records:
            refresh_readings(record)
        await db.flush()
        await add_documents(db, await _documents(db, records))
        done += len(records)
        after = records[-1].id
