"""Loading parsed MARC records into the catalogue: insert new titles, update re-imported
ones (keyed by control number), in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Record
from policies.enums import MaterialType
from resolvers.marc import RecordData, Skipped

BATCH = 1000


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


def _batches(
    items: Iterable[RecordData | Skipped], size: int
) -> Iterator[list[RecordData | Skipped]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


async def import_records(
    sessions: async_sessionmaker[AsyncSession],
    items: Iterable[RecordData | Skipped],
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Insert or update every record in ``items``; each batch is one transaction."""
    report = ImportReport()
    for chunk in _batches(items, BATCH):
        good: dict[str, RecordData] = {}
        for item in chunk:
            if isinstance(item, Skipped):
                report.skipped.append(item)
            else:
                good[item.control_number] = item  # a repeated number in one file: last wins
        async with sessions() as db, db.begin():
            existing = dict(
                (
                    await db.execute(
                        select(Record.control_number, Record.id).where(
                            Record.control_number.in_(list(good))
                        )
                    )
                ).all()
            )
            fresh = [
                {**_columns(d, now), "created_at": now}
                for n, d in good.items()
                if n not in existing
            ]
            changed = [
                {**_columns(d, now), "id": existing[n]} for n, d in good.items() if n in existing
            ]
            if fresh:
                await db.execute(insert(Record), fresh)
            if changed:
                await db.execute(update(Record), changed)
            ids = (
                await db.execute(
                    select(Record.control_number, Record.id).where(
                        Record.control_number.in_(list(good))
                    )
                )
            ).all()
        report.record_ids.update(dict(ids))
        report.inserted += len(fresh)
        report.updated += len(changed)
        if progress is not None:
            progress(len(chunk))
    return report
