"""The API benchmark's database: the demo libraries, LC's 250,000 titles with copies, and
the patrons the benchmark logs in as.

The MARC file and the importer are the search benchmark's (``bench/search.py``): the same
download (sha256-checked) and the same real import. Loading takes minutes, so ``run.py
--reuse`` measures an already-seeded database.

The scale benchmark (issue [R2 9/9]) adds patrons to a database that is already loaded
(the search benchmark's 1,000,000 titles): the benchmark's own patrons as above, then
``--patrons`` more, every third with ``--loans`` open loans and every tenth with a
waiting hold::

    .venv/bin/python bench/api/seed.py --add-patrons 100000 \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/hondana_bench_search_1m
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import search as search_bench  # noqa: E402  (bench/search.py)

from models import Copy, Hold, Library, Loan, Patron, Record  # noqa: E402
from models.db import create_engine, create_session_factory  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from policies.clock import library_today  # noqa: E402
from policies.enums import (  # noqa: E402
    ContactMethod,
    CopyStatus,
    HoldState,
    MaterialType,
    PasswordState,
)
from resolvers.shared.passwords import PasswordHasher  # noqa: E402
from server import demo  # noqa: E402
from server.catalogue_import import (  # noqa: E402
    BATCH,
    import_records,
    prepared_file_batches,
)

PASSWORD = "bench2468"
LOANS_CARD = "3000000001"  # 20 loans
HOLDS_CARD = "3000000002"  # 20 holds
STORM_PREFIX = "31"  # storm patrons: 31xxxxxxxx, all with PASSWORD
STORM_PATRONS = 400
ITEMS = 20
CROWD_PREFIX = "32"  # the scale benchmark's patrons: 32xxxxxxxx
CHUNK = 5000


def storm_card(n: int) -> str:
    """The card number of the ``n``-th login-storm patron."""
    return f"{STORM_PREFIX}{n:08d}"


def seed(url: str, workers: int, titles: int | None = None) -> None:
    """Recreate the database at ``url`` (PostgreSQL or SQLite) and load everything the
    benchmark needs; ``titles`` loads only the file's first batches up to about that many
    (a quick check of the bench code, not a measurement)."""
    search_bench._fresh_database(url)
    upgrade(url)
    asyncio.run(_seed(url, workers, titles))


async def _seed(url: str, workers: int, titles: int | None) -> None:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    now = datetime.now(UTC)
    today = library_today(now, "Asia/Tokyo")
    async with sessions() as db, db.begin():
        libs = await demo._libraries(db, today)
    started = time.perf_counter()
    batches = prepared_file_batches(search_bench.lc_file(), workers=workers)
    if titles is not None:  # whole batches (the importer's transactions), at least one
        batches = itertools.islice(batches, max(1, -(-titles // BATCH)))
    report = await import_records(
        sessions,
        batches,
        now=now,
        copies=demo._copy_plan(libs),
    )
    seconds = time.perf_counter() - started
    print(f"  imported {report.inserted:,} titles in {seconds:.0f} s", flush=True)
    await _patrons(sessions, libs[0], today, now)
    await engine.dispose()


async def _patrons(
    sessions: async_sessionmaker[AsyncSession], central: Library, today: date, now: datetime
) -> None:
    # One hash for every bench patron: a login still verifies it in full (argon2id).
    hasher = PasswordHasher(time_cost=2, memory_kib=19456, parallelism=1, threads=1)
    hashed = await hasher.hash(PASSWORD)

    def patron(card: str, name: str) -> Patron:
        return Patron(
            card_number=card,
            name=name,
            birth_date=date(1985, 4, 2),
            card_expires_on=today + timedelta(days=3 * 365),
            password_hash=hashed,
            password_state=PasswordState.ACTIVE,
            contact_method=ContactMethod.NONE,
            default_pickup_library_id=central.id,
            created_at=now,
        )

    async with sessions() as db, db.begin():
        borrower = patron(LOANS_CARD, "貸出 太郎")
        holder = patron(HOLDS_CARD, "予約 花子")
        others = [patron(storm_card(n), f"利用者 {n}") for n in range(STORM_PATRONS)]
        db.add_all([borrower, holder, *others])
        await db.flush()
        # Shelved, lendable book copies at the central library: the first ITEMS are lent to
        # the borrower; the titles of the next ITEMS are held by the holder.
        copies = (
            (
                await db.execute(
                    select(Copy)
                    .join(Record, Record.id == Copy.record_id)
                    .where(
                        Copy.library_id == central.id,
                        Copy.status == CopyStatus.AVAILABLE,
                        ~Copy.reference_only,
                        ~Copy.from_other_city,
                        Record.material_type == MaterialType.BOOK,
                    )
                    .order_by(Copy.id)
                    .limit(2 * ITEMS)
                )
            )
            .scalars()
            .all()
        )
        for n, copy in enumerate(copies[:ITEMS]):
            copy.status = CopyStatus.ON_LOAN
            db.add(
                Loan(
                    copy_id=copy.id,
                    patron_id=borrower.id,
                    library_id=central.id,
                    loaned_at=now - timedelta(days=5),
                    due_on=today + timedelta(days=1 + n % 10),
                )
            )
        for n, copy in enumerate(copies[ITEMS:]):
            # Every other title has someone ahead in the queue (HOLD-7 positions).
            if n % 2:
                db.add(
                    Hold(
                        patron_id=others[n].id,
                        record_id=copy.record_id,
                        pickup_library_id=central.id,
                        state=HoldState.WAITING,
                        placed_at=now - timedelta(days=2),
                    )
                )
            db.add(
                Hold(
                    patron_id=holder.id,
                    record_id=copy.record_id,
                    pickup_library_id=central.id,
                    state=HoldState.WAITING,
                    placed_at=now - timedelta(days=1, minutes=n),
                )
            )
    async with sessions() as db:
        titles = (await db.execute(select(func.count()).select_from(Record))).scalar_one()
    print(f"  {titles:,} titles; patrons {LOANS_CARD} (loans), {HOLDS_CARD} (holds)", flush=True)


async def add_crowd(url: str, count: int, loans: int) -> None:
    """The benchmark's patrons, then ``count`` more into an already-loaded database: every
    third with ``loans`` open loans of shelved book copies, every tenth with a waiting hold."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    now = datetime.now(UTC)
    today = library_today(now, "Asia/Tokyo")
    async with sessions() as db:
        central = (await db.execute(select(Library).order_by(Library.id).limit(1))).scalar_one()
        if (await db.execute(select(Patron.id).where(Patron.card_number == LOANS_CARD))).first():
            print("  the benchmark's patrons are there already", flush=True)
        else:
            await _patrons(sessions, central, today, now)
    hashed = await _scalar(
        sessions, select(Patron.password_hash).where(Patron.card_number == LOANS_CARD)
    )
    started = time.perf_counter()
    base = {
        "birth_date": date(1980, 1, 1),
        "card_expires_on": today + timedelta(days=3 * 365),
        "password_hash": hashed,
        "password_state": PasswordState.ACTIVE,
        "contact_method": ContactMethod.NONE,
        "default_pickup_library_id": central.id,
        "created_at": now,
    }
    for first in range(0, count, CHUNK):
        rows = [
            base | {"card_number": f"{CROWD_PREFIX}{n:08d}", "name": f"利用者 {n}"}
            for n in range(first, min(count, first + CHUNK))
        ]
        async with sessions() as db, db.begin():
            await db.execute(insert(Patron), rows)
    await _crowd_loans(sessions, today, now, loans)
    print(f"  {count:,} patrons with loans and holds in {time.perf_counter() - started:.0f} s")
    await engine.dispose()


async def _scalar(sessions: async_sessionmaker[AsyncSession], query: Any) -> Any:
    async with sessions() as db:
        return (await db.execute(query)).scalar_one()


async def _crowd_loans(
    sessions: async_sessionmaker[AsyncSession], today: date, now: datetime, loans: int
) -> None:
    async with sessions() as db:
        crowd = list(
            (
                await db.execute(
                    select(Patron.id, Patron.default_pickup_library_id)
                    .where(Patron.card_number.like(f"{CROWD_PREFIX}%"))
                    .order_by(Patron.id)
                )
            ).all()
        )
        borrowers = crowd[::3]
        copies = list(
            (
                await db.execute(
                    select(Copy.id, Copy.library_id, Copy.record_id)
                    .join(Record, Record.id == Copy.record_id)
                    .where(
                        Copy.status == CopyStatus.AVAILABLE,
                        ~Copy.reference_only,
                        ~Copy.from_other_city,
                        Record.material_type == MaterialType.BOOK,
                    )
                    .order_by(Copy.id.desc())  # the far end from the benchmark's own patrons
                    .limit(len(borrowers) * loans)
                )
            ).all()
        )
    lent = copies[: len(borrowers) * loans]
    loan_rows = [
        {
            "copy_id": copy_id,
            "patron_id": borrowers[n // loans][0],
            "library_id": library_id,
            "loaned_at": now - timedelta(days=n % 14),
            "due_on": today + timedelta(days=1 + n % 14),
        }
        for n, (copy_id, library_id, _) in enumerate(lent)
    ]
    # Holds on titles that are on loan (so they wait), one per tenth patron.
    hold_rows = [
        {
            "patron_id": patron_id,
            "record_id": lent[n][2],
            "pickup_library_id": pickup,
            "state": HoldState.WAITING,
            "placed_at": now - timedelta(hours=n % 240),
        }
        for n, (patron_id, pickup) in enumerate(crowd[::10][: len(lent)])
    ]
    for first in range(0, len(loan_rows), CHUNK):
        chunk = loan_rows[first : first + CHUNK]
        async with sessions() as db, db.begin():
            await db.execute(insert(Loan), chunk)
            await db.execute(
                update(Copy)
                .where(Copy.id.in_([r["copy_id"] for r in chunk]))
                .values(status=CopyStatus.ON_LOAN)
            )
    for first in range(0, len(hold_rows), CHUNK):
        async with sessions() as db, db.begin():
            await db.execute(insert(Hold), hold_rows[first : first + CHUNK])
    print(f"  {len(loan_rows):,} open loans, {len(hold_rows):,} waiting holds", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--add-patrons", type=int, required=True, help="patrons to add")
    parser.add_argument("--loans", type=int, default=3, help="open loans of every third")
    args = parser.parse_args()
    asyncio.run(add_crowd(args.database_url, args.add_patrons, args.loans))


if __name__ == "__main__":
    main()
