"""A patron, a staff user and lists of any length, written in bulk, for the statement
counts of ``test_query_counts.py``: each ``grow_*`` brings one list to ``n`` items."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from models import (
    Application,
    BasketEntry,
    Bookshelf,
    BookshelfEntry,
    Copy,
    Hold,
    Library,
    Loan,
    OutboxMessage,
    Patron,
    Record,
    StaffAudit,
    StaffUser,
)
from policies.enums import (
    ApplicationKind,
    ApplicationState,
    CopyStatus,
    HoldState,
    MaterialType,
    OutboxState,
    StaffRole,
)
from tests.support import Api, Factory


@dataclass
class World:
    """One patron (logged in), one staff user with every role, three libraries, and bulk
    row makers; ``made`` counts what each list already holds."""

    api: Api
    factory: Factory
    libraries: list[Library]
    patron: Patron
    staff: StaffUser
    token: str
    staff_token: str
    made: dict[str, int] = field(default_factory=dict)

    @classmethod
    async def create(cls, api: Api, factory: Factory) -> World:
        libraries = [await factory.library(f"Q{i}") for i in range(3)]
        patron = await factory.patron("yomu2468", keep_reading_history=True)
        staff = await factory.staff("counts", roles={StaffRole.ADMIN})
        return cls(
            api,
            factory,
            libraries,
            patron,
            staff,
            await api.login(patron.card_number, "yomu2468"),
            await api.staff_login("counts", "staffpass1"),
        )

    def more(self, kind: str, n: int) -> range:
        """The indexes still missing to make ``n`` of ``kind``."""
        done = self.made.get(kind, 0)
        self.made[kind] = max(done, n)
        return range(done, n)

    async def records(self, prefix: str, wanted: range, **kw: Any) -> list[Record]:
        """Titles with one to three copies each, indexed for search."""
        now = self.factory.clock.now()
        records = [
            Record(
                control_number=f"{prefix}-{i}",
                title=f"{prefix} の本 {i}",
                responsibility=f"著者 {i}",
                publisher="出版社",
                subject_class="913.6",
                material_type=MaterialType.BOOK,
                created_at=now,
                updated_at=now,
                **kw,
            )
            for i in wanted
        ]
        await self.factory.add(*records)
        copies = [
            Copy(
                barcode=f"{prefix}-{rec.id}-{lib.id}",
                record_id=rec.id,
                library_id=lib.id,
                current_library_id=lib.id,
                status=CopyStatus.AVAILABLE if j else CopyStatus.ON_LOAN,
                created_at=now,
            )
            for i, rec in zip(wanted, records, strict=True)
            for j, lib in enumerate(self.libraries[: 1 + i % 3])
        ]
        await self.factory.add(*copies)
        await self.factory.reindex(*(r.id for r in records))
        return records

    async def first_copies(self, records: list[Record]) -> list[Copy]:
        """The on-loan copy each of :meth:`records` made first."""
        copies: dict[int, Copy] = {}
        async with self.factory.services.sessions() as db:
            rows = await db.execute(
                select(Copy)
                .where(Copy.record_id.in_([r.id for r in records]))
                .order_by(Copy.record_id, Copy.id)
            )
            for copy in rows.scalars():
                copies.setdefault(copy.record_id, copy)
        return [copies[r.id] for r in records]


Grow = Callable[[World, int], Awaitable[None]]


async def grow_search(world: World, n: int) -> None:
    await world.records("検索", world.more("search", n))


async def grow_loans(world: World, n: int) -> None:
    records = await world.records("貸出", world.more("loans", n))
    today = world.factory.today()
    copies = await world.first_copies(records)
    await world.factory.add(
        *(
            Loan(
                copy_id=copy.id,
                patron_id=world.patron.id,
                library_id=copy.library_id,
                loaned_at=world.factory.clock.now() - timedelta(days=3),
                due_on=today + timedelta(days=1 + copy.id % 14),
            )
            for copy in copies
        )
    )


async def grow_reading_history(world: World, n: int) -> None:
    records = await world.records("履歴", world.more("history", n))
    now = world.factory.clock.now()
    copies = await world.first_copies(records)
    await world.factory.add(
        *(
            Loan(
                copy_id=copy.id,
                patron_id=world.patron.id,
                library_id=copy.library_id,
                loaned_at=now - timedelta(days=20),
                due_on=world.factory.today() - timedelta(days=5),
                returned_at=now - timedelta(days=i % 7 + 1),
            )
            for i, copy in enumerate(copies)
        )
    )


async def grow_holds(world: World, n: int) -> None:
    records = await world.records("予約", world.more("holds", n))
    now = world.factory.clock.now()
    other = await world.factory.patron(None)  # someone ahead in every queue (HOLD-7)
    holds: list[Hold] = []
    for i, rec in enumerate(records):
        pickup = world.libraries[i % 3].id
        holds.append(
            Hold(patron_id=other.id, record_id=rec.id, pickup_library_id=pickup, placed_at=now)
        )
        holds.append(
            Hold(
                patron_id=world.patron.id,
                record_id=rec.id,
                pickup_library_id=pickup,
                placed_at=now + timedelta(seconds=1),
                # Every size has a waiting hold (first) and, from 10 on, ready ones too.
                state=HoldState.READY if i % 4 == 1 else HoldState.WAITING,
                pickup_deadline=world.factory.today() + timedelta(days=7) if i % 4 == 1 else None,
            )
        )
    await world.factory.add(*holds)


async def grow_basket(world: World, n: int) -> None:
    records = await world.records("かご", world.more("basket", n))
    now = world.factory.clock.now()
    await world.factory.add(
        *(BasketEntry(patron_id=world.patron.id, record_id=r.id, added_at=now) for r in records)
    )


async def grow_bookshelf(world: World, n: int) -> None:
    wanted = world.more("shelf", n)
    if wanted.start == 0:
        await world.factory.add(
            Bookshelf(
                patron_id=world.patron.id, name="好きな本", created_at=world.factory.clock.now()
            )
        )
    records = await world.records("本棚", wanted)
    async with world.factory.services.sessions() as db:
        shelf = (
            await db.execute(select(Bookshelf.id).where(Bookshelf.patron_id == world.patron.id))
        ).scalar_one()
    now = world.factory.clock.now()
    await world.factory.add(
        *(BookshelfEntry(shelf_id=shelf, record_id=r.id, added_at=now) for r in records)
    )


async def grow_new_arrivals(world: World, n: int) -> None:
    await world.records("新着", world.more("arrivals", n))


async def grow_pull_list(world: World, n: int) -> None:
    records = await world.records("取置", world.more("pull", n))
    now = world.factory.clock.now()
    shelf = world.libraries[0]  # one copy on its shelf for each title
    await world.factory.add(
        *(
            Copy(
                barcode=f"pull-{r.id}",
                record_id=r.id,
                library_id=shelf.id,
                current_library_id=shelf.id,
                status=CopyStatus.AVAILABLE,
                created_at=now,
            )
            for r in records
        )
    )
    placed = now - timedelta(days=2)  # before today: on today's list
    await world.factory.add(
        *(
            Hold(
                patron_id=world.patron.id,
                record_id=r.id,
                pickup_library_id=world.libraries[0].id,
                placed_at=placed,
            )
            for r in records
        )
    )


async def grow_applications(world: World, n: int) -> None:
    now = world.factory.clock.now()
    await world.factory.add(
        *(
            Application(
                kind=ApplicationKind.DETAILS_CHANGE,
                state=ApplicationState.PENDING,
                name=f"申請者 {i}",
                birth_date=date(1990, 1, 1),
                email=f"a{i}@example.jp",
                # Half name a patron (matchedPatron), half a card no one holds.
                card_number=world.patron.card_number if i % 2 else f"9{i:09d}",
                details="住所変更",
                created_at=now + timedelta(seconds=i),
            )
            for i in world.more("applications", n)
        )
    )


async def grow_mail_log(world: World, n: int) -> None:
    now = world.factory.clock.now()
    await world.factory.add(
        *(
            OutboxMessage(
                dedupe_key=f"counts:{i}",
                kind="due_reminder",
                patron_id=world.patron.id,
                payload={},
                state=OutboxState.SENT if i % 2 else OutboxState.PENDING,
                not_before=now,
                next_attempt_at=now,
                created_at=now - timedelta(minutes=i),
                recipients=["p@example.jp"] if i % 2 else None,
            )
            for i in world.more("mail", n)
        )
    )


async def grow_audit_log(world: World, n: int) -> None:
    # Each read is by another staff member, so names cannot come from one cached row.
    start = world.more("audit", n)
    readers = [
        StaffUser(
            username=f"reader{i}",
            name="職員",
            password_hash="x",
            roles="COUNTER",
            created_at=world.factory.clock.now(),
        )
        for i in start
    ]
    await world.factory.add(*readers)
    await world.factory.add(
        *(
            StaffAudit(
                staff_id=reader.id,
                patron_id=world.patron.id,
                action="patron",
                at=world.factory.clock.now() - timedelta(minutes=i),
            )
            for i, reader in zip(start, readers, strict=True)
        )
    )
