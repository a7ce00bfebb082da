"""The weekly new-arrivals mail (MAIL-4): titles added since the last run that match what
a patron asked to hear about (subject classes, keywords, authors). The run and its
bookkeeping are one transaction, so a run repeated owes nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Patron, Record, SweepRun
from policies.config import PolicyConfig
from resolvers.mail.outbox import queue_mail

NEW_ARRIVALS_MAX = 50  # titles listed in one new-arrivals mail
NEW_ARRIVALS_PAGE = 1000  # titles the weekly scan reads at a time


def _matches(record: Record, fields: dict[str, list[str]]) -> bool:
    classes = [c for c in fields.get("subject_classes", []) if c]
    keywords = [k.casefold() for k in fields.get("keywords", []) if k]
    authors = [a.casefold() for a in fields.get("authors", []) if a]
    text = " ".join(
        v for v in (record.title, record.title_reading, record.subjects, record.series) if v
    ).casefold()
    names = " ".join(
        v for v in (record.responsibility, record.responsibility_reading) if v
    ).casefold()
    return (
        any((record.subject_class or "").startswith(c) for c in classes)
        or any(k in text or k in names for k in keywords)
        or any(a in names for a in authors)
    )


@dataclass(slots=True)
class _Digest:
    """One patron's new-arrivals mail as the scan builds it: how many titles matched and
    the first :data:`NEW_ARRIVALS_MAX` of them, in the order they were added."""

    total: int = 0
    titles: list[dict[str, Any]] = field(default_factory=list)

    def add(self, record: Record) -> None:
        self.total += 1
        if len(self.titles) < NEW_ARRIVALS_MAX:
            self.titles.append(
                {
                    "title": record.title,
                    "responsibility": record.responsibility,
                    "record_id": record.id,
                }
            )


async def _records_added(
    db: AsyncSession, start: datetime, end: datetime, page_size: int
) -> AsyncIterator[Sequence[Record]]:
    """The titles added in ``[start, end)``, oldest first, a page at a time (keyset on
    ``(created_at, id)``): after a bulk import the week is the whole catalogue."""
    stmt = (
        select(Record)
        .where(Record.created_at >= start, Record.created_at < end)
        .order_by(Record.created_at, Record.id)
        .limit(page_size)
    )
    page_stmt = stmt
    while True:
        page = (await db.execute(page_stmt)).scalars().all()
        if page:
            yield page
        if len(page) < page_size:
            return
        # The session's identity map holds rows weakly: a finished page is let go.
        last = page[-1]
        page_stmt = stmt.where(
            or_(
                Record.created_at > last.created_at,
                and_(Record.created_at == last.created_at, Record.id > last.id),
            )
        )


async def queue_new_arrivals(
    sessions: async_sessionmaker[AsyncSession],
    policy: PolicyConfig,
    now: datetime,
    today: date,
    *,
    page_size: int = NEW_ARRIVALS_PAGE,
) -> int:
    """Weekly: titles added since the last run that match each patron's fields; no mail
    when nothing matches (MAIL-4, PREF-6). The window starts where the last run ended, so a
    missed week is covered by the next run. Titles are read ``page_size`` at a time, so
    memory holds one page and, per interested patron, the titles their mail will list."""
    tz = ZoneInfo(policy.service.timezone)
    async with sessions() as db, db.begin():
        run = await db.get(SweepRun, "new_arrivals", with_for_update=True)
        since = run.done_through if run is not None else today - timedelta(days=7)
        if since >= today:
            return 0
        start = datetime.combine(since, time(0), tzinfo=tz)
        end = datetime.combine(today, time(0), tzinfo=tz)
        interests = (
            await db.execute(
                select(Patron.id, Patron.new_arrival_fields)
                .where(Patron.new_arrival_fields.is_not(None))
                .order_by(Patron.id)
            )
        ).all()
        digests = {patron_id: _Digest() for patron_id, _ in interests}
        async for page in _records_added(db, start, end, page_size):
            for record in page:
                for patron_id, fields in interests:
                    if _matches(record, fields or {}):
                        digests[patron_id].add(record)
        sent = 0
        for patron_id, digest in digests.items():
            if not digest.total:
                continue
            sent += 1
            await queue_mail(
                db,
                kind="new_arrivals",
                dedupe_key=f"new-arrivals:{patron_id}:{since.isoformat()}:{today.isoformat()}",
                patron_id=patron_id,
                payload={
                    "from": since.isoformat(),
                    "to": (today - timedelta(days=1)).isoformat(),
                    "total": digest.total,
                    "titles": digest.titles,
                },
                not_before=now,
                now=now,
            )
        if run is None:
            db.add(SweepRun(name="new_arrivals", done_through=today, finished_at=now))
        else:
            run.done_through = today
            run.finished_at = now
    return sent
