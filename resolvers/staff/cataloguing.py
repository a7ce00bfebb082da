"""Staff cataloguing: correcting a title and deleting one, with the search index kept
current in the same transaction, and the licences of e-book titles (EBOOK-4)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, select

from models import Copy, EbookTitle, Hold, Loan, Record, StaffAudit
from models.db import lock_row
from policies.enums import MaterialType
from policies.errors import ErrorCode, RuleViolation
from policies.isbn import isbn13
from policies.text import has_control
from resolvers.catalogue import search_documents, search_index
from resolvers.ebooks import ebooks
from resolvers.shared.context import Context

MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class RecordChanges:
    """Fields to change on a title; ``None`` leaves a field as it is, ``""`` clears an
    optional one."""

    title: str | None = None
    title_reading: str | None = None
    responsibility: str | None = None
    responsibility_reading: str | None = None
    publisher: str | None = None
    publisher_reading: str | None = None
    year: int | None = None
    isbn: str | None = None
    subject_class: str | None = None
    series: str | None = None
    volume: str | None = None
    material_type: MaterialType | None = None


_OPTIONAL = (
    "title_reading",
    "responsibility",
    "responsibility_reading",
    "publisher",
    "publisher_reading",
    "series",
)


def _check(changes: RecordChanges) -> dict[str, object]:
    """The column values to write; ``RuleViolation`` for anything out of shape."""
    values: dict[str, object] = {}
    for name in ("title", *_OPTIONAL, "isbn", "subject_class", "volume"):
        value = getattr(changes, name)
        if value is not None and has_control(value):
            # One-line text; PostgreSQL cannot store a NUL at all.
            raise RuleViolation(ErrorCode.INVALID_INPUT, field=name)
    if changes.title is not None:
        if not changes.title.strip() or len(changes.title) > MAX_TEXT:
            raise RuleViolation(ErrorCode.INVALID_INPUT, field="title", max_length=MAX_TEXT)
        values["title"] = changes.title.strip()
    for name in _OPTIONAL:
        value = getattr(changes, name)
        if value is not None:
            if len(value) > MAX_TEXT:
                raise RuleViolation(ErrorCode.INVALID_INPUT, field=name, max_length=MAX_TEXT)
            values[name] = value.strip() or None
    if changes.year is not None:
        if not 1000 <= changes.year <= 2100:
            raise RuleViolation(ErrorCode.INVALID_INPUT, field="year")
        values["year"] = changes.year
    if changes.isbn is not None:
        isbn = isbn13(changes.isbn) if changes.isbn.strip() else None
        if changes.isbn.strip() and (isbn is None or len(changes.isbn) > 40):
            raise RuleViolation(ErrorCode.INVALID_INPUT, field="isbn")
        values["isbn"] = isbn
    for name, limit in (("subject_class", 50), ("volume", 50)):
        value = getattr(changes, name)
        if value is not None:
            if len(value) > limit:
                raise RuleViolation(ErrorCode.INVALID_INPUT, field=name, max_length=limit)
            values[name] = value.strip() or None
    if changes.material_type is not None:
        values["material_type"] = changes.material_type
    return values


async def update_record(ctx: Context, record_id: int, changes: RecordChanges) -> Record:
    """Change a title's fields and reindex it; ``NOT_FOUND`` for an unknown id."""
    values = _check(changes)
    async with ctx.services.sessions() as db, db.begin():
        record = await db.get(Record, record_id, with_for_update=True)
        if record is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="id")
        for name, value in values.items():
            setattr(record, name, value)
        search_documents.refresh_readings(record)
        record.updated_at = ctx.services.clock.now()
        await db.flush()
        await search_index.sync(db, [record_id])
    return record


async def delete_record(ctx: Context, record_id: int) -> None:
    """Delete a title with its copies and its index entries. A title that any loan or hold
    (past or present) refers to is kept: ``RECORD_IN_USE``; withdraw its copies instead."""
    async with ctx.services.sessions() as db, db.begin():
        if await db.get(Record, record_id) is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="id")
        await lock_row(db, Record, record_id)
        copies = select(Copy.id).where(Copy.record_id == record_id)
        used = await db.scalar(
            select(
                exists().where(Hold.record_id == record_id)
                | exists().where(Loan.copy_id.in_(copies))
            )
        )
        if used:
            raise RuleViolation(ErrorCode.RECORD_IN_USE)
        await search_index.sync(db, [record_id], gone=True)
        await db.execute(delete(Copy).where(Copy.record_id == record_id))
        await db.execute(delete(Record).where(Record.id == record_id))


MAX_LICENCES = 10_000


async def set_ebook_licences(ctx: Context, staff_id: int, record_id: int, licences: int) -> int:
    """Add or change the licences of an e-book title (EBOOK-4); audited. Licences freed by
    a larger number go at once to the oldest waiting holds (EBOOK-3). Fewer licences than
    are out now take effect as the loans end: nothing lent is taken back."""
    if not 0 <= licences <= MAX_LICENCES:
        raise RuleViolation(ErrorCode.INVALID_INPUT, field="licences", max=MAX_LICENCES)
    now = ctx.services.clock.now()
    async with ctx.services.sessions() as db, db.begin():
        record = await db.get(Record, record_id)
        if record is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="recordId")
        if record.material_type is not MaterialType.EBOOK:
            raise RuleViolation(ErrorCode.INVALID_INPUT, "EBOOK-4", field="recordId")
        await lock_row(db, Record, record_id)
        title = await db.get(EbookTitle, record_id, populate_existing=True)
        if title is None:
            title = EbookTitle(record_id=record_id, licences=licences)
            db.add(title)
        title.licences = licences
        db.add(
            StaffAudit(
                staff_id=staff_id,
                patron_id=None,
                action=f"ebook_licences:{record_id}:{licences}",
                at=now,
            )
        )
        await db.flush()
        await ebooks.secure_next(db, record_id, ctx.policy, now)
    return licences
