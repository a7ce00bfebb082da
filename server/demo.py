"""``hondana demo``: a library you can try at once.

Libraries of every kind with a calendar, the real MARC sample spread over them as copies,
demo patrons in every state that matters, and staff accounts. The README lists the logins.
"""

from __future__ import annotations

import hashlib
import itertools
import lzma
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    Application,
    BasketEntry,
    Bookshelf,
    BookshelfEntry,
    CalendarDay,
    Copy,
    EbookHold,
    EbookLoan,
    EbookTitle,
    Hold,
    Library,
    Loan,
    OutboxMessage,
    Patron,
    Record,
    RecordSearch,
    SearchPosting,
    StaffUser,
)
from policies.clock import library_today
from policies.config import PolicyConfig
from policies.enums import (
    CardKind,
    ContactMethod,
    CopyStatus,
    LibraryKind,
    MaterialType,
    PasswordState,
    StaffRole,
)
from resolvers.catalogue.marc import RecordData
from resolvers.catalogue.marc_files import iter_marc_file
from resolvers.circulation.notices import queue_due_reminders, queue_overdue_notices
from resolvers.shared.passwords import PasswordHasher
from server.catalogue_import import (
    CopyPlan,
    ImportReport,
    import_records,
    prepared_batches,
    prepared_file_batches,
)
from server.demo_desk import desk_applications, desk_morning, local_call_number, shelf_location

# The demo's catalogue ships with the project (server/data/README.md): real records of the
# Library of Congress, xz-compressed, checked by this sha256 before it is read.
DEMO_CATALOGUE = Path(__file__).resolve().parent / "data" / "lc-books-2016-demo.mrc.xz"
DEMO_CATALOGUE_SHA256 = "464f4c241f48c216d1b7ac70207e6fb097c3cac1e23a8f60df9a9320021e6a58"

LIBRARIES = [
    # code, name, English name, kind, takes holds, closed weekdays (ISO)
    ("CEN", "中央図書館", "Central Library", LibraryKind.CENTRAL, True, "1"),
    ("KIT", "北図書館", "North Branch", LibraryKind.BRANCH, True, "1"),
    ("MIN", "南図書館", "South Branch", LibraryKind.BRANCH, True, "2"),
    ("TOM", "富士正晴記念館分室", "Tomishi Branch Room", LibraryKind.BRANCH_ROOM, True, "1,4"),
    ("BKM", "移動図書館ともしび号", "Bookmobile Tomoshibi", LibraryKind.BOOKMOBILE, False, "6,7"),
]


@dataclass(frozen=True, slots=True)
class DemoPatron:
    """One demo login, listed in the README."""

    card_number: str
    password: str | None
    name: str
    note: str


DEMO_PATRONS = [
    DemoPatron("1000000001", "honyomi26", "山田 花子", "active password, e-mail contact"),
    DemoPatron("1000000002", "kari2468", "佐藤 一郎", "temporary password (must change it first)"),
    DemoPatron("1000000003", "kigen2024", "鈴木 次郎", "card expired"),
    DemoPatron("1000000004", "entai0505", "高橋 三郎", "loan overdue by 10 days (CARD-3)"),
    DemoPatron("1000000005", "entai0202", "田中 四郎", "loan overdue by 2 days (CARD-2)"),
    DemoPatron("1000000006", "kouiki66", "伊藤 五郎", "wide-area card"),
    DemoPatron("1000000007", "shou8ko", "渡辺 さくら", "elementary pupil, guardian consent"),
    DemoPatron("1000000008", None, "中村 六郎", "no web password yet"),
    DemoPatron(
        "1000000009",
        None,
        "小林 七海",
        "no web password, no e-mail address: her web password application waits at the desk",
    ),
]
# Cards with no e-mail address on file (AUTH-3): a web password application from one of them
# is handed to staff, and the password over the counter.
NO_ADDRESS = {"1000000009"}
PHONE_CONTACT = {"1000000008", "1000000009"}
DEMO_STAFF = [
    ("counter", "counter2026", "窓口 太郎", {StaffRole.COUNTER}),
    ("admin", "admin2026x", "管理 花子", {StaffRole.ADMIN}),
    (
        "chief",
        "chief2026",
        "窓口 主任",
        {StaffRole.COUNTER, StaffRole.PATRONS, StaffRole.CALENDAR, StaffRole.OVERRIDE},
    ),
]


async def _libraries(db: AsyncSession, today: date) -> list[Library]:
    libs = [
        Library(code=c, name=n, name_en=e, kind=k, takes_holds=t, closed_weekdays=w, position=i)
        for i, (c, n, e, k, t, w) in enumerate(LIBRARIES)
    ]
    db.add_all(libs)
    await db.flush()
    # Year-end closure and one spring stock-taking week at the central library.
    for lib in libs:
        for offset in range(0, 400):
            day = today + timedelta(days=offset)
            if (day.month, day.day) in {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}:
                db.add(CalendarDay(library_id=lib.id, day=day, is_open=False, note="年末年始休館"))
    return libs


def _copy_plan(libs: list[Library]) -> CopyPlan:
    """Copies for each demo title: one to three branches, a few reference-only or from
    another city, and now and then one at the last library; e-books get none (EBOOK-4)."""
    rng = random.Random(20161)  # noqa: S311 - demo data, reproducible
    holders = [lib for lib in libs if lib.kind is not LibraryKind.BOOKMOBILE]
    barcodes = itertools.count(300000001)

    def plan(data: RecordData) -> list[dict[str, Any]]:
        if data.material_type == "ebook":
            return []
        copies: list[dict[str, Any]] = []
        for lib in rng.sample(holders, k=rng.choice((1, 1, 2, 3))):
            reference = rng.random() < 0.03
            copies.append(
                {
                    "barcode": str(next(barcodes)),
                    "library_id": lib.id,
                    "reference_only": reference,
                    "from_other_city": rng.random() < 0.01,
                    "shelf_location": shelf_location(data, reference),
                }
            )
        if rng.random() < 0.05:
            copies.append(
                {
                    "barcode": str(next(barcodes)),
                    "library_id": libs[-1].id,
                    "shelf_location": shelf_location(data, False),
                }
            )
        for copy in copies:  # STAFF-5: every demo copy has a call number
            copy["shelf_mark"] = data.call_number or local_call_number(data)
        return copies

    return plan


def unpack_catalogue(
    target_dir: Path, source: Path = DEMO_CATALOGUE, sha256: str = DEMO_CATALOGUE_SHA256
) -> Path:
    """The shipped catalogue, its sha256 checked, unpacked into ``target_dir`` as the plain
    MARC21 file the importer reads (its decoding processes seek by byte offset)."""
    packed = source.read_bytes()
    digest = hashlib.sha256(packed).hexdigest()
    if digest != sha256:
        raise ValueError(f"{source}: sha256 {digest}, expected {sha256} (damaged or changed)")
    target = target_dir / source.name.removesuffix(".xz")
    target.write_bytes(lzma.decompress(packed))
    return target


# Every table the demo fills, children first, so that each can be emptied in turn.
DEMO_TABLES = (
    Application,
    BookshelfEntry,
    Bookshelf,
    OutboxMessage,
    EbookLoan,
    EbookHold,
    EbookTitle,
    Loan,
    Hold,
    BasketEntry,
    Copy,
    RecordSearch,
    SearchPosting,
    Record,
    Patron,
    StaffUser,
    CalendarDay,
    Library,
)


async def load_demo(
    sessions: async_sessionmaker[AsyncSession],
    hasher: PasswordHasher,
    *,
    now: datetime | None = None,
    marc_path: Path | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Replace the demo data: libraries, catalogue (by default the shipped one), copies,
    patrons, staff and loans."""
    if marc_path is None:
        with tempfile.TemporaryDirectory(prefix="hondana-demo-") as unpacked:
            return await load_demo(
                sessions,
                hasher,
                now=now,
                marc_path=unpack_catalogue(Path(unpacked)),
                limit=limit,
                progress=progress,
            )
    now = now or datetime.now(UTC)
    today = library_today(now, "Asia/Tokyo")
    async with sessions() as db, db.begin():
        for model in DEMO_TABLES:
            await db.execute(delete(model))
        libs = await _libraries(db, today)
    if limit is not None:
        batches = prepared_batches(islice(iter_marc_file(marc_path), limit))
    else:
        batches = prepared_file_batches(marc_path)
    report = await import_records(
        sessions, batches, now=now, progress=progress, copies=_copy_plan(libs)
    )
    await _ebook_licences(sessions)
    await _people(sessions, hasher, libs, today, now)
    # Mails the demo owes at once (a due-date reminder, two overdue notices): the worker's
    # beat sends them into var/maildir within a minute of `make demo` starting.
    policy = PolicyConfig()
    await queue_due_reminders(sessions, policy, now, today)
    await queue_overdue_notices(sessions, policy, now, today)
    return report


async def _ebook_licences(sessions: async_sessionmaker[AsyncSession]) -> None:
    """E-books have licences, not copies (EBOOK-4): two for each demo e-book."""
    async with sessions() as db, db.begin():
        ebooks = select(Record.id).where(Record.material_type == MaterialType.EBOOK)
        ebook_ids = list((await db.execute(ebooks)).scalars())
        db.add_all(EbookTitle(record_id=rid, licences=2) for rid in ebook_ids)


def _demo_patron(
    i: int, demo: DemoPatron, password_hash: str | None, home: Library, today: date, now: datetime
) -> Patron:
    """The card of one demo login: each card number stands for one situation (DEMO_PATRONS)."""
    card = demo.card_number
    if demo.password is None:
        state = PasswordState.NONE
    elif card == "1000000002":
        state = PasswordState.TEMPORARY
    else:
        state = PasswordState.ACTIVE
    pupil = card == "1000000007"
    return Patron(
        card_number=card,
        name=demo.name,
        birth_date=today.replace(year=today.year - 8) if pupil else date(1985, 4, 2),
        card_kind=CardKind.WIDE_AREA if card == "1000000006" else CardKind.CITY,
        card_expires_on=today + timedelta(days=-30 if card == "1000000003" else 3 * 365),
        password_hash=password_hash,
        password_state=state,
        guardian_consent=pupil,
        email1=None if card in NO_ADDRESS else f"patron{i + 1}@example.jp",
        phone=f"072-620-{1601 + i}",
        contact_method=ContactMethod.PHONE if card in PHONE_CONTACT else ContactMethod.EMAIL,
        due_reminder=card == "1000000001",
        due_reminder_days=2,
        new_arrival_fields={"keywords": ["東京"], "subject_classes": [], "authors": []}
        if card == "1000000001"
        else None,
        default_pickup_library_id=home.id,
        created_at=now,
    )


async def _demo_loans(
    db: AsyncSession, i: int, patron: Patron, central: Library, today: date, now: datetime
) -> None:
    """Three loans for the first patron, one overdue loan for each overdue demo card."""
    overdue = {"1000000004": 10, "1000000005": 2}.get(patron.card_number)
    count = 3 if patron.card_number == "1000000001" else 1 if overdue else 0
    if not count:
        return
    shelf = (
        select(Copy)
        .join(Record, Record.id == Copy.record_id)
        .where(
            Copy.status == CopyStatus.AVAILABLE,
            ~Copy.reference_only,
            ~Copy.from_other_city,
            Record.material_type == MaterialType.BOOK,
            Record.language == "jpn",
            Copy.library_id == central.id,
        )
        .order_by(Copy.id)
        .offset(10 * i)
        .limit(count)
    )
    for n, copy in enumerate((await db.execute(shelf)).scalars().all()):
        due = today - timedelta(days=overdue) if overdue else today + timedelta(days=2 + 4 * n)
        copy.status = CopyStatus.ON_LOAN
        db.add(
            Loan(
                copy_id=copy.id,
                patron_id=patron.id,
                library_id=central.id,
                loaned_at=now - timedelta(days=15),
                due_on=due,
            )
        )


async def _people(
    sessions: async_sessionmaker[AsyncSession],
    hasher: PasswordHasher,
    libs: list[Library],
    today: date,
    now: datetime,
) -> None:
    """The demo patrons with their loans, the morning at the desk, the applications waiting
    for staff, and the staff logins."""
    central = libs[0]
    async with sessions() as db, db.begin():
        for i, demo in enumerate(DEMO_PATRONS):
            password_hash = await hasher.hash(demo.password) if demo.password else None
            patron = _demo_patron(i, demo, password_hash, central, today, now)
            db.add(patron)
            await db.flush()
            await _demo_loans(db, i, patron, central, today, now)
        await desk_morning(db, libs, today, now)
        await desk_applications(db, now)
        for username, password, name, roles in DEMO_STAFF:
            db.add(
                StaffUser(
                    username=username,
                    name=name,
                    password_hash=await hasher.hash(password),
                    roles=",".join(sorted(roles)),
                    library_id=central.id,
                    created_at=now,
                )
            )
