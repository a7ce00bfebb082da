"""The demo's staff desk (STAFF-2..5): where copies stand and what a morning at the desk
finds waiting."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Application, Copy, Hold, Library, Loan, Patron, Record
from policies.enums import ApplicationKind, ApplicationState, CopyStatus, HoldState, MaterialType
from resolvers.catalogue.marc import RecordData


async def desk_morning(db: AsyncSession, libs: list[Library], today: date, now: datetime) -> None:
    """A desk's morning (STAFF-2..4): two holds placed yesterday for the pull list, a READY
    hold for a patron to phone, one past its deadline, a copy in transit to 北図書館 and a
    hold waiting for a copy on loan."""
    central, north = libs[0], libs[1]
    patrons = {p.card_number: p for p in (await db.execute(select(Patron))).scalars()}
    copies = (
        (
            await db.execute(
                select(Copy)
                .join(Record, Record.id == Copy.record_id)
                .where(
                    Copy.status == CopyStatus.AVAILABLE,
                    Copy.library_id == central.id,
                    ~Copy.reference_only,
                    ~Copy.from_other_city,
                    Record.material_type == MaterialType.BOOK,
                    Record.language == "jpn",
                )
                .order_by(Copy.id)
                .offset(300)
                .limit(5)
            )
        )
        .scalars()
        .all()
    )
    yesterday = now - timedelta(days=1)
    plan = [  # card, state, pickup, deadline (days from today)
        ("1000000001", HoldState.WAITING, central, None),
        ("1000000006", HoldState.WAITING, central, None),
        ("1000000008", HoldState.READY, central, 5),
        ("1000000007", HoldState.READY, central, -1),
        ("1000000006", HoldState.IN_TRANSIT, north, None),
    ]
    # A demo loaded with --limit may hold too few titles for the whole morning: as many as fit.
    for copy, (card, state, pickup, days) in zip(copies, plan, strict=False):
        hold = Hold(
            patron_id=patrons[card].id,
            record_id=copy.record_id,
            pickup_library_id=pickup.id,
            state=state,
            placed_at=yesterday - timedelta(days=8 if days is not None else 0),
        )
        if state is HoldState.READY and days is not None:
            hold.copy_id, hold.ready_at = copy.id, yesterday
            hold.pickup_deadline = today + timedelta(days=days)
            copy.status = CopyStatus.ON_HOLD_SHELF
        elif state is HoldState.IN_TRANSIT:
            hold.copy_id = copy.id
            copy.status = CopyStatus.IN_TRANSIT
        db.add(hold)
    await _waiting_for_a_loan(db, patrons, north, yesterday)


async def _waiting_for_a_loan(
    db: AsyncSession, patrons: dict[str, Patron], pickup: Library, placed_at: datetime
) -> None:
    """A title on loan to 山田 花子 that 伊藤 五郎 waits for: its return is trapped (HOLD-6)."""
    lent = await db.scalar(
        select(Loan).where(Loan.patron_id == patrons["1000000001"].id).order_by(Loan.id.desc())
    )
    lent_copy = await db.get(Copy, lent.copy_id) if lent is not None else None
    if lent_copy is not None:
        db.add(
            Hold(
                patron_id=patrons["1000000006"].id,
                record_id=lent_copy.record_id,
                pickup_library_id=pickup.id,
                state=HoldState.WAITING,
                placed_at=placed_at,
            )
        )


async def desk_applications(db: AsyncSession, now: datetime) -> None:
    """The applications queue (申請) a desk finds in the morning: 小林 七海's web password
    application, filed with no address on file (AUTH-3), so its temporary password is handed
    over at the counter, and 鈴木 次郎's web application to renew his expired card (APP-1)."""
    patrons = {p.card_number: p for p in (await db.execute(select(Patron))).scalars()}
    waiting = [  # card, kind, address the decision is mailed to, details, hours ago
        ("1000000009", ApplicationKind.PASSWORD_ISSUE, None, None, 15),
        ("1000000003", ApplicationKind.CARD_RENEWAL, "patron3@example.jp", "転居はありません。", 3),
    ]
    for card, kind, email, details, hours in waiting:
        patron = patrons.get(card)
        if patron is None:
            continue
        db.add(
            Application(
                kind=kind,
                state=ApplicationState.PENDING,
                name=patron.name,
                birth_date=patron.birth_date,
                email=email,  # AUTH-3: a password application keeps no address
                card_number=patron.card_number,
                details=details,
                patron_id=patron.id,  # card number and birth date matched
                created_at=now - timedelta(hours=hours),
            )
        )


def shelf_location(data: RecordData, reference: bool) -> str:
    """Where the demo shelves a copy (配架場所, STAFF-5)."""
    if reference:
        return "参考図書コーナー"
    if data.is_comic:
        return "まんがコーナー"
    if str(data.material_type).upper() not in ("BOOK", "MAGAZINE"):
        return "視聴覚コーナー"
    return "一般書架"


def local_call_number(data: RecordData) -> str:
    """A call number for a title whose record has none: class 0 and the title's first letter."""
    return f"000 {data.title[:1]}"
