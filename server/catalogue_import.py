"""Loading parsed MARC records into the catalogue: insert new titles, update re-imported
ones (keyed by control number), in batches."""

from __future__ import annotations

import os
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from multiprocessing import get_context
from typing import Any

from pyroaring import BitMap
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Copy, Record
from models.base import table
from models.db import bulk_insert
from policies.enums import CopyStatus, MaterialType
from resolvers.catalogue import search_documents, search_index
from resolvers.catalogue.marc import RecordData, Skipped
from resolvers.catalogue.marc_files import (
    RawBatch,
    decode_batch,
    is_xml,
    iter_marc_file,
    raw_batches,
)

BATCH = 5000
ANALYZE_AFTER = 10_000  # titles written by one import before statistics are refreshed
# New titles of one import before its index rows are merged: the import writes one row
# per key and batch, and past about ten batches to a block a search of a common word
# reads and unites that many rows per block (half its time at a million titles).
COMPACT_AFTER = 50_000


@dataclass(slots=True)
class ImportReport:
    """What an import did: counts, and every skipped record with its reason."""

    inserted: int = 0
    updated: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    record_ids: dict[str, int] = field(default_factory=dict)


def _columns(data: RecordData, now: datetime) -> dict[str, Any]:
    return {
        "control_number": data.control_number,
        "title": data.title,
        "title_reading": data.title_reading,
        "responsibility": data.responsibility,
        "responsibility_reading": data.responsibility_reading,
        "publisher": data.publisher,
        "publisher_reading": data.publisher_reading,
        "title_kana": data.title_kana,
        "responsibility_kana": data.responsibility_kana,
        "publisher_kana": data.publisher_kana,
        "year": data.year,
        "isbn": data.isbn,
        "subject_class": (data.subject_class or "")[:50] or None,
        "subjects": " | ".join(data.subjects) or None,
        "material_type": MaterialType(data.material_type.upper()),
        "series": data.series,
        "volume": (data.volume or "")[:50] or None,
        "is_comic": data.is_comic,
        "language": (data.language or "")[:3] or None,
        "updated_at": now,
    }


@dataclass(slots=True)
class PreparedBatch:
    """A batch of records made ready for the database away from it (in a worker process):
    repeated control numbers resolved (the last wins), each title's index document, and
    for each index key the positions in ``records`` of the titles that carry it."""

    records: list[RecordData]
    skipped: list[Skipped]
    documents: list[search_documents.Document]
    postings: dict[str, bytes]  # key -> serialised bitmap of positions
    size: int  # records read, skipped ones included
    end: int = 0  # byte offset in the file just past the batch, when known


def prepare(items: Sequence[RecordData | Skipped]) -> PreparedBatch:
    """Everything about a batch that needs no database."""
    good: dict[str, RecordData] = {}
    skipped: list[Skipped] = []
    for item in items:
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            good.pop(item.control_number, None)
            good[item.control_number] = item
    records = list(good.values())
    documents = [search_documents.document_of(0, d, ()) for d in records]
    positions: dict[str, list[int]] = defaultdict(list)
    for position, doc in enumerate(documents):
        for key in doc.index_keys():
            positions[key].append(position)
    postings = {key: BitMap(p).serialize() for key, p in positions.items()}
    return PreparedBatch(records, skipped, documents, postings, len(items))


def _prepare_raw(batch: RawBatch) -> PreparedBatch:
    prepared = prepare(decode_batch(batch))
    _, offset, chunk = batch[-1]
    prepared.end = offset + len(chunk) + 1
    return prepared


def prepared_batches(
    items: Iterable[RecordData | Skipped], size: int = BATCH
) -> Iterator[PreparedBatch]:
    """Batches of already parsed records, prepared in this process."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield prepare(chunk)


def prepared_file_batches(
    path: str | os.PathLike[str], size: int = BATCH, workers: int | None = None
) -> Iterator[PreparedBatch]:
    """A MARC file's records in prepared batches. Binary MARC21 is decoded and prepared
    in ``workers`` processes (default: one per CPU) while this one writes; at most two
    batches per worker wait, so memory stays flat however large the file. MARCXML is
    read in this process."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or is_xml(path):
        yield from prepared_batches(iter_marc_file(path), size)
        return
    # "spawn": the parent runs an event loop and database connections a fork would copy.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        pending: deque[Future[PreparedBatch]] = deque()
        for raw in raw_batches(path, size):
            pending.append(pool.submit(_prepare_raw, raw))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


CopyPlan = Callable[[RecordData], Sequence[dict[str, Any]]]
"""For a new title, the copies to create: ``Copy`` column values, ``library_id`` required,
``barcode`` optional (made from the record id when absent)."""


def _copy_rows(
    plan: CopyPlan | None, added: list[tuple[int, RecordData]], now: datetime
) -> list[dict[str, Any]]:
    if plan is None:
        return []
    rows = []
    for record_id, data in added:
        for n, spec in enumerate(plan(data), start=1):
            row = {
                "barcode": f"M{record_id:09d}{n:02d}",
                "status": CopyStatus.AVAILABLE.value,
                "reference_only": False,
                "from_other_city": False,
                "shelf_mark": data.call_number,
                "created_at": now,
                **spec,
                "record_id": record_id,
            }
            row.setdefault("current_library_id", row["library_id"])
            if isinstance(row["status"], CopyStatus):
                row["status"] = row["status"].value
            rows.append(row)
    return rows


async def _ids(db: AsyncSession, numbers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(numbers), 1000):
        rows = await db.execute(
            select(Record.control_number, Record.id).where(
                Record.control_number.in_(numbers[start : start + 1000])
            )
        )
        found.update((n, i) for n, i in rows.all())
    return found


async def import_records(
    sessions: async_sessionmaker[AsyncSession],
    batches: Iterable[PreparedBatch],
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    copies: CopyPlan | None = None,
    compact_after: int = COMPACT_AFTER,
) -> ImportReport:
    """Insert or update every record; each batch is one transaction that also brings the
    search index up to date. New titles get the copies ``copies`` plans; re-imported ones
    keep theirs. Past ``compact_after`` new titles the index rows are merged at the end."""
    report = ImportReport()
    for batch in batches:
        report.skipped += batch.skipped
        async with sessions() as db, db.begin():
            existing = await _ids(db, [d.control_number for d in batch.records])
            fresh = [p for p, d in enumerate(batch.records) if d.control_number not in existing]
            changed = [
                {**_columns(d, now), "id": existing[d.control_number]}
                for d in batch.records
                if d.control_number in existing
            ]
            ids: dict[int, int] = {}
            if fresh:
                rows = [{**_columns(batch.records[p], now), "created_at": now} for p in fresh]
                for row in rows:
                    row["material_type"] = row["material_type"].value
                await bulk_insert(db, table(Record), rows)
                new = await _ids(db, [batch.records[p].control_number for p in fresh])
                ids = {p: new[batch.records[p].control_number] for p in fresh}
            if changed:
                await db.execute(update(Record), changed)
            added = [(ids[p], batch.records[p]) for p in fresh]
            copy_rows = _copy_rows(copies, added, now)
            if copy_rows:
                await bulk_insert(db, table(Copy), copy_rows)
            await _index_new(db, batch, ids, copy_rows)
            await search_index.sync(db, [c["id"] for c in changed])
        report.record_ids.update((d.control_number, rid) for rid, d in added)
        report.record_ids.update((c["control_number"], c["id"]) for c in changed)
        report.inserted += len(added)
        report.updated += len(changed)
        if progress is not None:
            progress(batch.size, batch.end)
    if report.inserted >= compact_after:
        await search_index.compact(sessions)
    if report.inserted + report.updated >= ANALYZE_AFTER:
        await _analyze(sessions)
    return report


async def _analyze(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Refresh the planner's statistics after a large load. Until autovacuum gets round to
    it, PostgreSQL plans the search's checks on the freshly filled tables as if they were
    empty and scans them whole: 600 ms instead of 6 ms at a million titles."""
    async with sessions() as db, db.begin():
        if db.get_bind().dialect.name == "postgresql":
            await db.execute(text("ANALYZE records, copies, record_search, search_postings"))
        else:
            await db.execute(text("PRAGMA optimize"))


async def _index_new(
    db: AsyncSession, batch: PreparedBatch, ids: dict[int, int], copy_rows: list[dict[str, Any]]
) -> None:
    """Index the batch's new titles from its prepared postings, adding their libraries."""
    if not ids:
        return
    libraries: dict[int, set[int]] = defaultdict(set)
    for row in copy_rows:
        libraries[row["record_id"]].add(row["library_id"])
    postings = _positions_to_ids(batch.postings, ids)
    documents = []
    for position, record_id in ids.items():
        doc = batch.documents[position]
        held = tuple(f"l:{lib}" for lib in sorted(libraries[record_id]))
        for key in held:
            postings.setdefault(key, BitMap()).add(record_id)
        documents.append(replace(doc, record_id=record_id, facets=doc.facets + held))
    await search_index.add_postings(db, documents, postings)


def _positions_to_ids(postings: dict[str, bytes], ids: dict[int, int]) -> dict[str, BitMap]:
    """Each key's bitmap of batch positions as a bitmap of record ids. New ids usually
    follow the positions at a fixed distance, and then a shift does it without a loop."""
    ordered = sorted(ids.items())
    base = ordered[0][1] - ordered[0][0]
    if all(rid - p == base for p, rid in ordered) and len(ids) == ordered[-1][0] + 1:
        return {k: BitMap.deserialize(b).shift(base) for k, b in postings.items()}
    return {
        k: BitMap(ids[p] for p in BitMap.deserialize(b) if p in ids) for k, b in postings.items()
    }
