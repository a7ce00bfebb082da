"""Loans, renewals and the staff counter (LOAN-1..5, HOLD-5, HOLD-6, HOLD-8, HOLD-9, CARD-3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Hold, Library, OutboxMessage
from policies.clock import FixedClock
from policies.enums import (
    ContactMethod,
    CopyStatus,
    HoldState,
    LibraryKind,
    MaterialType,
    StaffRole,
)
from resolvers.circulation.expiry import expire_ready_holds
from tests.circulation.ops import (
    CHECK_IN,
    CHECK_OUT,
    LOANS,
    PULL_LIST,
    PULLED,
    RECEIVE,
    RENEW,
    SET_DAY,
    gid,
    hold_for,
    my_holds,
)
from tests.support import Api, Factory, codes


async def _desk(api: Api, factory: Factory) -> str:
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER, StaffRole.CALENDAR})
    return await api.staff_login("desk", "staffpass1")


async def _expire(api: Api, clock: FixedClock):
    services = api.app.state.services
    today = (clock.now() + timedelta(hours=9)).date()
    return await expire_ready_holds(services.sessions, services.policy, clock.now(), today)


async def test_loan_list_and_renewal_rules(api: Api, factory: Factory) -> None:
    # LOAN-1: title and due date. LOAN-2: renewal = today + 15 days, once, when no one waits
    # and not overdue. LOAN-3: every refusal with its code. LOAN-4: several at once, per loan.
    central = await factory.library("CEN")
    room = await factory.library("TOM", LibraryKind.BRANCH_ROOM)
    mobile = await factory.library("BKM", LibraryKind.BOOKMOBILE)
    patron = await factory.patron("yomu2468")
    other = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    other_token = await api.login(other.card_number, "yomu2468")

    async def lend(title: str, library: Library = central, due: int = 5, **kw: object):
        rec = await factory.record(title, material_type=kw.pop("material", MaterialType.BOOK))
        return await factory.loan(
            patron, await factory.copy(rec, library, **kw), due_in_days=due
        ), rec

    plain, _ = await lend("普通の本")
    at_room, _ = await lend("分室の本", room)
    wanted, wanted_rec = await lend("予約のある本")
    await factory.copy(wanted_rec, central)  # a second copy so the other patron may hold it
    await hold_for(api, other_token, wanted_rec.id, central.id)
    late, _ = await lend("延滞の本", due=-1)
    mobile_loan, _ = await lend("移動図書館の本", mobile)
    art, _ = await lend("複製画", material=MaterialType.ART_REPRODUCTION)
    inter, _ = await lend("他市の本", from_other_city=True)

    listed = {
        row["record"]["title"]: row
        for row in (await api.gql(LOANS, token=token))["data"]["myLoans"]
    }
    assert listed["普通の本"]["renewable"] is True
    assert listed["普通の本"]["dueOn"] == (factory.today() + timedelta(days=5)).isoformat()
    assert listed["予約のある本"]["renewalBlockedBy"] == "HELD_BY_OTHERS"

    loans = [plain, at_room, wanted, late, mobile_loan, art, inter]
    body = await api.gql(RENEW, {"l": [gid("Loan", loan.id) for loan in loans]}, token=token)
    results = body["data"]["renewLoans"]["results"]
    today = factory.today()
    assert (
        results[0]["renewed"]
        and results[0]["loan"]["dueOn"] == (today + timedelta(days=15)).isoformat()
    )
    assert (
        results[1]["renewed"]
        and results[1]["loan"]["dueOn"] == (today + timedelta(days=14)).isoformat()
    )
    assert [r["errors"] for r in results[2:]] == [
        [{"code": "HELD_BY_OTHERS", "rule": "LOAN-3"}],
        [{"code": "OVERDUE", "rule": "LOAN-3"}],
        [{"code": "BOOKMOBILE", "rule": "LOAN-3"}],
        [{"code": "ART_REPRODUCTION", "rule": "LOAN-3"}],
        [{"code": "INTER_LIBRARY", "rule": "LOAN-3"}],
    ]
    again = await api.gql(RENEW, {"l": [gid("Loan", plain.id)]}, token=token)
    assert again["data"]["renewLoans"]["results"][0]["errors"] == [
        {"code": "RENEWAL_LIMIT", "rule": "LOAN-3"}
    ]
    # Another patron's loan and junk ids are NOT_FOUND; duplicates and >100 refuse the batch.
    stolen = await api.gql(RENEW, {"l": [gid("Loan", plain.id), "junk"]}, token=other_token)
    assert [r["errors"][0]["code"] for r in stolen["data"]["renewLoans"]["results"]] == [
        "NOT_FOUND",
        "NOT_FOUND",
    ]
    dup = await api.gql(RENEW, {"l": [gid("Loan", plain.id)] * 2}, token=token)
    assert dup["data"]["renewLoans"]["errors"][0]["code"] == "DUPLICATE_ID"
    many = await api.gql(RENEW, {"l": [gid("Loan", i) for i in range(1, 102)]}, token=token)
    assert many["data"]["renewLoans"]["errors"][0]["code"] == "TOO_MANY_ITEMS"


async def test_renewal_on_the_day_of_checkout_is_refused_and_kept(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    """LOAN-6, from the guide: 「延長期間は、手続きをした日から15日間(分室は14日間)です。」 On
    the day of the checkout that is the due date already: refused, the renewal kept."""
    desk = await _desk(api, factory)
    central = await factory.library("CEN")
    patron = await factory.patron("yomu2468")
    copy = await factory.copy(await factory.record("今日借りた本"), central)
    lent = await api.gql(
        CHECK_OUT,
        {"c": patron.card_number, "b": copy.barcode, "l": gid("Library", central.id)},
        token=desk,
    )
    assert lent["data"]["checkOut"]["errors"] == [], lent
    loan = lent["data"]["checkOut"]["loan"]
    token = await api.login(patron.card_number, "yomu2468")
    listed = (await api.gql(LOANS, token=token))["data"]["myLoans"][0]
    assert (listed["renewable"], listed["renewalBlockedBy"]) == (False, "RENEWAL_NO_CHANGE")
    body = await api.gql(RENEW, {"l": [loan["id"]]}, token=token)
    result = body["data"]["renewLoans"]["results"][0]
    assert result["errors"] == [{"code": "RENEWAL_NO_CHANGE", "rule": "LOAN-6"}]
    assert result["loan"] == {"dueOn": loan["dueOn"], "renewals": 0}
    clock.advance(timedelta(days=1))  # the next day the renewal moves the date: allowed
    token = await api.login(patron.card_number, "yomu2468")
    later = await api.gql(RENEW, {"l": [loan["id"]]}, token=token)
    moved = later["data"]["renewLoans"]["results"][0]
    assert moved["renewed"] and moved["loan"]["renewals"] == 1
    assert moved["loan"]["dueOn"] > loan["dueOn"]


async def test_renewal_due_date_moves_to_an_opening_day(api: Api, factory: Factory) -> None:
    # LOAN-2 / SVC-2: a due date that falls on a closed day moves to the next opening day.
    today = factory.today()
    target = today + timedelta(days=15)
    central = await factory.library("CEN", closed_weekdays=str(target.isoweekday()))
    patron = await factory.patron("yomu2468")
    loan = await factory.loan(
        patron, await factory.copy(await factory.record(), central), due_in_days=3
    )
    token = await api.login(patron.card_number, "yomu2468")
    body = await api.gql(RENEW, {"l": [gid("Loan", loan.id)]}, token=token)
    assert (
        body["data"]["renewLoans"]["results"][0]["loan"]["dueOn"]
        == (target + timedelta(days=1)).isoformat()
    )


async def test_checkout_limits_and_blocks(api: Api, factory: Factory) -> None:
    # LOAN-5: staff lend with loan limits per category (same numbers as HOLD-2, counted apart).
    desk = await _desk(api, factory)
    central = await factory.library("CEN")
    patron = await factory.patron("yomu2468")
    videos = [
        await factory.copy(
            await factory.record(f"映像{i}", material_type=MaterialType.VIDEO), central
        )
        for i in range(5)
    ]
    for copy in videos[:4]:
        body = await api.gql(
            CHECK_OUT,
            {"c": patron.card_number, "b": copy.barcode, "l": gid("Library", central.id)},
            token=desk,
        )
        assert body["data"]["checkOut"]["errors"] == [], body
        due = body["data"]["checkOut"]["loan"]["dueOn"]
    assert due == (factory.today() + timedelta(days=15)).isoformat()
    fifth = await api.gql(
        CHECK_OUT,
        {"c": patron.card_number, "b": videos[4].barcode, "l": gid("Library", central.id)},
        token=desk,
    )
    assert fifth["data"]["checkOut"]["errors"][0]["code"] == "LOAN_LIMIT"
    ref = await factory.copy(await factory.record("辞典"), central, reference_only=True)
    body = await api.gql(
        CHECK_OUT,
        {"c": patron.card_number, "b": ref.barcode, "l": gid("Library", central.id)},
        token=desk,
    )
    assert body["data"]["checkOut"]["errors"][0]["code"] == "NOT_LOANABLE"
    body = await api.gql(
        CHECK_OUT, {"c": "nobody", "b": ref.barcode, "l": gid("Library", central.id)}, token=desk
    )
    assert body["data"]["checkOut"]["errors"][0] == {
        "code": "NOT_FOUND",
        "rule": None,
        "field": "cardNumber",
    }
    # Patrons never reach the counter.
    patron_token = await api.login(patron.card_number, "yomu2468")
    assert codes(
        await api.gql(
            CHECK_OUT,
            {"c": patron.card_number, "b": ref.barcode, "l": gid("Library", central.id)},
            token=patron_token,
        )
    ) == ["FORBIDDEN"]


async def test_pull_list_is_for_the_next_morning(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # HOLD-5: a hold on a title with a copy on the shelf is not ready at once: the copy
    # appears on the pull list from the next day, and marking it pulled traps it.
    desk = await _desk(api, factory)
    central = await factory.library("CEN")
    rec = await factory.record("棚にある本")
    copy = await factory.copy(rec, central)
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    await hold_for(api, token, rec.id, central.id)
    assert (await my_holds(api, token))[0]["state"] == "WAITING"
    today = (await api.gql(PULL_LIST, {"l": gid("Library", central.id)}, token=desk))["data"][
        "pullList"
    ]
    assert today == []
    clock.advance(timedelta(days=1))
    desk = await api.staff_login("desk", "staffpass1")
    tomorrow = (await api.gql(PULL_LIST, {"l": gid("Library", central.id)}, token=desk))["data"][
        "pullList"
    ]
    assert tomorrow == [
        {"copy": {"barcode": copy.barcode}, "record": {"title": "棚にある本"}, "holdsWaiting": 1}
    ]
    pulled = await api.gql(PULLED, {"b": copy.barcode}, token=desk)
    assert pulled["data"]["markPulled"]["hold"]["state"] == "READY"
    assert pulled["data"]["markPulled"]["copy"]["status"] == "ON_HOLD_SHELF"
    again = await api.gql(PULLED, {"b": copy.barcode}, token=desk)
    assert again["data"]["markPulled"]["errors"][0]["code"] == "COPY_UNAVAILABLE"


async def test_check_in_traps_for_hold_ready_here_or_in_transit(api: Api, factory: Factory) -> None:
    # HOLD-6: a returned copy goes READY at the pickup library, or IN_TRANSIT to it; receiving
    # it there makes the hold READY with a deadline. A hold-ready mail is owed (MAIL-1).
    desk = await _desk(api, factory)
    central = await factory.library("CEN")
    branch = await factory.library("KIT", LibraryKind.BRANCH)
    rec = await factory.record("返却待ち")
    copy = await factory.copy(rec, central, status=CopyStatus.ON_LOAN)
    lender = await factory.patron("yomu2468")
    await factory.loan(lender, copy, due_in_days=3)
    waiter = await factory.patron(
        "yomu2468", contact_method=ContactMethod.EMAIL, email1="w@example.jp"
    )
    token = await api.login(waiter.card_number, "yomu2468")
    await hold_for(api, token, rec.id, branch.id)
    back = await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=desk)
    moved = back["data"]["checkIn"]
    assert moved["returnedLoan"] is not None
    assert moved["hold"]["state"] == "IN_TRANSIT" and moved["copy"]["status"] == "IN_TRANSIT"
    assert (await my_holds(api, token))[0]["state"] == "IN_TRANSIT"
    wrong = await api.gql(RECEIVE, {"b": copy.barcode, "l": gid("Library", central.id)}, token=desk)
    # STAFF-4: received where it is not going: refused, naming the library it goes to.
    [refused] = wrong["data"]["receiveTransit"]["errors"]
    assert refused["code"] == "WRONG_LIBRARY" and refused["rule"] == "STAFF-4"
    assert branch.name in refused["message"]
    assert (await my_holds(api, token))[0]["state"] == "IN_TRANSIT"  # nothing changed
    arrived = await api.gql(
        RECEIVE, {"b": copy.barcode, "l": gid("Library", branch.id)}, token=desk
    )
    hold = arrived["data"]["receiveTransit"]["hold"]
    assert hold["state"] == "READY"
    assert hold["pickupDeadline"] == (factory.today() + timedelta(days=7)).isoformat()
    async with api.app.state.services.sessions() as db:
        mails = (await db.execute(select(OutboxMessage))).scalars().all()
    assert [m.kind for m in mails] == ["hold_ready"]


async def test_ready_hold_collection_and_overdue_block(api: Api, factory: Factory) -> None:
    # CARD-3: more than 4 days overdue, a ready hold cannot be collected; otherwise checking
    # the kept copy out collects the hold. HELD_FOR_ANOTHER protects it from others.
    desk = await _desk(api, factory)
    central = await factory.library("CEN")
    rec = await factory.record("取り置き")
    copy = await factory.copy(rec, central)
    patron = await factory.patron("yomu2468")
    stranger = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    await hold_for(api, token, rec.id, central.id)
    await api.gql(PULLED, {"b": copy.barcode}, token=desk)
    late = await factory.loan(
        patron, await factory.copy(await factory.record("延滞"), central), due_in_days=-5
    )
    lib_id = gid("Library", central.id)
    other = await api.gql(
        CHECK_OUT, {"c": stranger.card_number, "b": copy.barcode, "l": lib_id}, token=desk
    )
    assert other["data"]["checkOut"]["errors"][0]["code"] == "HELD_FOR_ANOTHER"
    blocked = await api.gql(
        CHECK_OUT, {"c": patron.card_number, "b": copy.barcode, "l": lib_id}, token=desk
    )
    assert blocked["data"]["checkOut"]["errors"][0] == {
        "code": "OVERDUE_BLOCK",
        "rule": "CARD-3",
        "field": None,
    }
    await api.gql(CHECK_IN, {"b": (await _barcode(api, late.copy_id)), "l": lib_id}, token=desk)
    ok = await api.gql(
        CHECK_OUT, {"c": patron.card_number, "b": copy.barcode, "l": lib_id}, token=desk
    )
    assert ok["data"]["checkOut"]["collectedHold"]["state"] == "COLLECTED"
    assert await my_holds(api, token) == []


async def _barcode(api: Api, copy_id: int) -> str:
    from models import Copy

    async with api.app.state.services.sessions() as db:
        copy = await db.get(Copy, copy_id)
    assert copy is not None
    return copy.barcode


async def test_ready_hold_expires_after_deadline_moved_past_closed_day(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # HOLD-8: kept 7 days, moved to the next opening day when that day is closed; then it
    # expires whatever the contact method and the copy goes to the next hold.
    desk = await _desk(api, factory)
    central = await factory.library("CEN")
    seventh = factory.today() + timedelta(days=7)
    await api.gql(
        SET_DAY, {"l": gid("Library", central.id), "d": seventh.isoformat(), "o": False}, token=desk
    )
    rec = await factory.record("期限のある本")
    copy = await factory.copy(rec, central)
    first = await factory.patron("yomu2468")
    second = await factory.patron("yomu2468")
    t1 = await api.login(first.card_number, "yomu2468")
    await hold_for(api, t1, rec.id, central.id)
    clock.advance(timedelta(seconds=5))
    t2 = await api.login(second.card_number, "yomu2468")
    await hold_for(api, t2, rec.id, central.id)
    ready = await api.gql(PULLED, {"b": copy.barcode}, token=desk)
    assert (
        ready["data"]["markPulled"]["hold"]["pickupDeadline"]
        == (seventh + timedelta(days=1)).isoformat()
    )
    clock.advance(timedelta(days=8))  # the deadline day itself: still kept
    report = await _expire(api, clock)
    assert report.expired == []
    clock.advance(timedelta(days=1))
    report = await _expire(api, clock)
    assert len(report.expired) == 1 and len(report.passed_on) == 1
    assert (await _expire(api, clock)).expired == []  # idempotent
    t2 = await api.login(second.card_number, "yomu2468")
    [hold] = await my_holds(api, t2)
    assert hold["state"] == "READY"
    async with api.app.state.services.sessions() as db:
        states = sorted(s.value for s in (await db.execute(select(Hold.state))).scalars())
    assert states == ["EXPIRED", "READY"]


async def test_later_volume_is_kept_until_the_earlier_one_is_ready(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # HOLD-9: a later volume ready first is kept past its deadline until the earlier one is
    # ready too; comics are excepted.
    desk = await _desk(api, factory)
    central = await factory.library("CEN")
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    upper = await factory.record("長い物語 上", series="長い物語", volume="上")
    lower = await factory.record("長い物語 下", series="長い物語", volume="下")
    comic1 = await factory.record("漫画 1", series="漫画", volume="1", is_comic=True)
    comic2 = await factory.record("漫画 2", series="漫画", volume="2", is_comic=True)
    await factory.copy(upper, central, status=CopyStatus.ON_LOAN)
    await factory.copy(comic1, central, status=CopyStatus.ON_LOAN)
    lower_copy = await factory.copy(lower, central)
    comic2_copy = await factory.copy(comic2, central)
    for rec in (upper, lower, comic1, comic2):
        await hold_for(api, token, rec.id, central.id)
    for barcode in (lower_copy.barcode, comic2_copy.barcode):
        assert (await api.gql(PULLED, {"b": barcode}, token=desk))["data"]["markPulled"]["hold"][
            "state"
        ] == "READY"
    clock.advance(timedelta(days=20))
    report = await _expire(api, clock)
    assert len(report.kept) == 1 and len(report.expired) == 1  # the novel kept, the comic not
    async with api.app.state.services.sessions() as db:
        kept = (await db.execute(select(Hold).where(Hold.record_id == lower.id))).scalar_one()
    assert kept.state is HoldState.READY


async def test_calendar_is_staff_only_with_role(api: Api, factory: Factory) -> None:
    # STAFF-1: keeping the calendar needs the CALENDAR role.
    central = await factory.library("CEN")
    await factory.staff("only-counter", "staffpass9", {StaffRole.COUNTER})
    token = await api.staff_login("only-counter", "staffpass9")
    body = await api.gql(
        SET_DAY, {"l": gid("Library", central.id), "d": "2026-12-24", "o": False}, token=token
    )
    assert codes(body) == ["FORBIDDEN"]


async def test_a_copy_is_never_on_two_open_loans(api: Api, factory: Factory) -> None:
    # LOAN-5: a copy whose status was left AVAILABLE while a loan is still open is refused
    # at the counter with a clear code, and the database itself allows one open loan only.
    from sqlalchemy.exc import IntegrityError

    from models import Loan
    from policies.enums import StaffRole
    from schema.shared import ids

    lib = await factory.library("central")
    record = await factory.record("二重貸出")
    copy = await factory.copy(record, lib)  # status AVAILABLE, yet lent below
    first, second = await factory.patron("yomu2468"), await factory.patron("yomu2469")
    await factory.loan(first, copy, due_in_days=5)
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    desk = await api.staff_login("desk", "staffpass1")
    body = await api.gql(
        "mutation($b: String!, $l: ID!, $c: String) { checkOut(barcode: $b, libraryId: $l, "
        "cardNumber: $c) { loan { id } errors { code } } }",
        {"b": copy.barcode, "l": ids.encode("Library", lib.id), "c": second.card_number},
        token=desk,
    )
    assert body["data"]["checkOut"] == {"loan": None, "errors": [{"code": "COPY_UNAVAILABLE"}]}
    with pytest.raises(IntegrityError):
        await factory.add(
            Loan(
                copy_id=copy.id,
                patron_id=second.id,
                library_id=lib.id,
                loaned_at=factory.clock.now(),
                due_on=factory.today(),
            )
        )
