"""The staff desk acting for a patron (STAFF-2), the call list (STAFF-3), the counter's
answers (STAFF-4), call numbers and shelf locations (STAFF-5) and closed days (SVC-3)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Copy, Hold, Library, Loan, OutboxMessage, StaffAudit
from policies.clock import FixedClock
from policies.enums import ContactMethod, CopyStatus, HoldState, LibraryKind, StaffRole
from tests.circulation.desk_ops import (
    CALL_LIST,
    CALLED,
    CANCEL_FOR,
    CHECK_IN,
    CHECK_OUT,
    DESK_PATRON,
    EXPIRED,
    HOLD_SHELF,
    MAIL_LOG,
    MOVE_FOR,
    PLACE_FOR,
    PULL,
    REGISTER,
    RENEW_CARD,
    RENEW_FOR,
    TRANSITS,
    UPDATE,
    desk,
    errs,
)
from tests.circulation.ops import CANCEL, RECEIVE, SET_DAY, gid, hold_for, my_holds
from tests.support import Api, Factory


async def _audit(api: Api) -> list[tuple[str, str | None]]:
    async with api.app.state.services.sessions() as db:
        rows = (await db.execute(select(StaffAudit).order_by(StaffAudit.id))).scalars().all()
    return [(r.action, r.reason) for r in rows if r.action != "patron"]


async def test_holds_placed_cancelled_and_moved_for_a_patron(api: Api, factory: Factory) -> None:
    # STAFF-2: placed with the patron's limits; cancelled and moved in any state with a
    # reason; a READY copy goes to the next hold; every act audited. HOLD-6 still binds
    # the patron: a READY hold is not theirs to cancel.
    clerk = await desk(api, factory)
    central = await factory.library("CEN")
    north = await factory.library("KIT", LibraryKind.BRANCH)
    rec = await factory.record("窓口で予約")
    copy = await factory.copy(rec, central)
    phoning = await factory.patron("yomu2468")
    second = await factory.patron("yomu2468")
    late = await factory.patron("yomu2468")
    await factory.loan(
        late, await factory.copy(await factory.record("延滞"), central), due_in_days=-2
    )

    placed = await api.gql(
        PLACE_FOR,
        {"c": phoning.card_number, "r": gid("Record", rec.id), "p": gid("Library", central.id)},
        token=clerk,
    )
    hold_id = placed["data"]["placeHoldFor"]["hold"]["id"]
    blocked = await api.gql(
        PLACE_FOR, {"c": late.card_number, "r": gid("Record", rec.id)}, token=clerk
    )
    assert errs(blocked["data"]["placeHoldFor"]["errors"]) == ["OVERDUE_BLOCK"]  # CARD-2
    twice = await api.gql(
        PLACE_FOR,
        {"c": phoning.card_number, "r": gid("Record", rec.id), "p": gid("Library", central.id)},
        token=clerk,
    )
    assert errs(twice["data"]["placeHoldFor"]["errors"]) == ["ALREADY_HELD"]  # HOLD-1
    second_token = await api.login(second.card_number, "yomu2468")
    await hold_for(api, second_token, rec.id, central.id)

    # The copy comes back for the first hold: READY on the shelf.
    trapped = await api.gql(
        CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=clerk
    )
    assert trapped["data"]["checkIn"]["hold"]["state"] == "READY"
    token = await api.login(phoning.card_number, "yomu2468")
    refused = await api.gql(CANCEL, {"h": hold_id}, token=token)
    assert errs(refused["data"]["cancelHold"]["errors"]) == ["HOLD_NOT_MODIFIABLE"]

    no_reason = await api.gql(CANCEL_FOR, {"h": hold_id, "why": "  "}, token=clerk)
    assert errs(no_reason["data"]["cancelHoldFor"]["errors"]) == ["REASON_REQUIRED"]
    moved = await api.gql(
        MOVE_FOR,
        {"h": hold_id, "p": gid("Library", north.id), "why": "電話で受取館変更"},
        token=clerk,
    )
    after_move = moved["data"]["moveHoldFor"]["hold"]
    assert after_move["state"] == "IN_TRANSIT" and after_move["pickupLibrary"]["code"] == "KIT"
    assert after_move["pickupDeadline"] is None
    await api.gql(
        MOVE_FOR, {"h": hold_id, "p": gid("Library", central.id), "why": "やはり中央"}, token=clerk
    )
    cancelled = await api.gql(CANCEL_FOR, {"h": hold_id, "why": "電話で取消"}, token=clerk)
    assert cancelled["data"]["cancelHoldFor"]["hold"]["state"] == "CANCELLED"
    # The IN_TRANSIT copy, received at central, now serves the next hold in line.
    got = await api.gql(RECEIVE, {"b": copy.barcode, "l": gid("Library", central.id)}, token=clerk)
    assert got["data"]["receiveTransit"]["hold"]["state"] == "READY"
    assert [h["state"] for h in await my_holds(api, second_token)] == ["READY"]
    assert await _audit(api) == [
        ("hold_placed", None),
        ("hold_moved", "電話で受取館変更"),
        ("hold_moved", "やはり中央"),
        ("hold_cancelled", "電話で取消"),
    ]


async def test_cancelling_a_ready_hold_gives_the_copy_to_the_next(
    api: Api, factory: Factory
) -> None:
    # STAFF-2: "a READY ... copy goes to the next hold or back to the shelf".
    clerk = await desk(api, factory)
    central = await factory.library("CEN")
    rec = await factory.record("棚の本")
    copy = await factory.copy(rec, central)
    first, then = await factory.patron("yomu2468"), await factory.patron("yomu2468")
    first_token = await api.login(first.card_number, "yomu2468")
    then_token = await api.login(then.card_number, "yomu2468")
    first_hold = await hold_for(api, first_token, rec.id, central.id)
    await hold_for(api, then_token, rec.id, central.id)
    await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=clerk)
    await api.gql(CANCEL_FOR, {"h": first_hold, "why": "不要になった"}, token=clerk)
    assert [h["state"] for h in await my_holds(api, then_token)] == ["READY"]
    lone = await factory.record("ひとりの本")
    lone_copy = await factory.copy(lone, central)
    lone_hold = await hold_for(api, then_token, lone.id, central.id)
    await api.gql(CHECK_IN, {"b": lone_copy.barcode, "l": gid("Library", central.id)}, token=clerk)
    await api.gql(CANCEL_FOR, {"h": lone_hold, "why": "不要"}, token=clerk)
    async with api.app.state.services.sessions() as db:
        back = await db.get(Copy, lone_copy.id)
    assert back is not None and back.status is CopyStatus.AVAILABLE


async def test_renewal_for_a_patron_and_its_override(api: Api, factory: Factory) -> None:
    # STAFF-2: the LOAN rules apply; an override needs the OVERRIDE role and a reason.
    clerk = await desk(api, factory)
    chief = await desk(api, factory, StaffRole.COUNTER, StaffRole.OVERRIDE, name="chief")
    central = await factory.library("CEN")
    patron = await factory.patron("yomu2468")
    plain = await factory.loan(
        patron, await factory.copy(await factory.record("普通"), central), due_in_days=3
    )
    late = await factory.loan(
        patron, await factory.copy(await factory.record("遅れ"), central), due_in_days=-1
    )
    card = patron.card_number
    ok = await api.gql(RENEW_FOR, {"c": card, "l": gid("Loan", plain.id), "o": False}, token=clerk)
    assert ok["data"]["renewLoanFor"]["loan"]["renewals"] == 1
    no = await api.gql(RENEW_FOR, {"c": card, "l": gid("Loan", late.id), "o": False}, token=clerk)
    assert errs(no["data"]["renewLoanFor"]["errors"]) == ["OVERDUE"]
    forbidden = await api.gql(
        RENEW_FOR, {"c": card, "l": gid("Loan", late.id), "o": True, "why": "入院"}, token=clerk
    )
    assert errs(forbidden["data"]["renewLoanFor"]["errors"]) == ["FORBIDDEN"]
    reasonless = await api.gql(
        RENEW_FOR, {"c": card, "l": gid("Loan", late.id), "o": True}, token=chief
    )
    assert errs(reasonless["data"]["renewLoanFor"]["errors"]) == ["REASON_REQUIRED"]
    forced = await api.gql(
        RENEW_FOR, {"c": card, "l": gid("Loan", late.id), "o": True, "why": "入院"}, token=chief
    )
    assert forced["data"]["renewLoanFor"]["loan"]["renewals"] == 1
    assert await _audit(api) == [("loan_renewed", None), ("loan_renewed_override", "OVERDUE: 入院")]
    other = await factory.patron("yomu2468")
    stranger = await api.gql(
        RENEW_FOR, {"c": other.card_number, "l": gid("Loan", plain.id), "o": False}, token=clerk
    )
    assert errs(stranger["data"]["renewLoanFor"]["errors"]) == ["NOT_FOUND"]


async def test_check_out_warns_and_only_an_override_proceeds(api: Api, factory: Factory) -> None:
    # STAFF-4: overdue patron, a title another hold wants, a card expiring within 30 days.
    clerk = await desk(api, factory)
    chief = await desk(api, factory, StaffRole.COUNTER, StaffRole.OVERRIDE, name="chief")
    central = await factory.library("CEN")
    patron = await factory.patron("yomu2468", expires_in_days=20)
    waiter = await factory.patron("yomu2468")
    await factory.loan(
        patron, await factory.copy(await factory.record("延滞中"), central), due_in_days=-10
    )
    rec = await factory.record("人気の本")
    copy = await factory.copy(rec, central)
    await factory.copy(rec, central)
    await hold_for(api, await api.login(waiter.card_number, "yomu2468"), rec.id, central.id)
    args = {"c": patron.card_number, "b": copy.barcode, "l": gid("Library", central.id)}
    warned = (await api.gql(CHECK_OUT, {**args, "o": False}, token=clerk))["data"]["checkOut"]
    assert warned["loan"] is None
    assert errs(warned["errors"]) == ["PATRON_OVERDUE", "WANTED_BY_HOLD", "CARD_EXPIRING_SOON"]
    assert "10日" in warned["errors"][0]["message"]
    denied = await api.gql(CHECK_OUT, {**args, "o": True, "why": "館長判断"}, token=clerk)
    assert errs(denied["data"]["checkOut"]["errors"]) == ["FORBIDDEN"]
    lent = await api.gql(CHECK_OUT, {**args, "o": True, "why": "館長判断"}, token=chief)
    assert lent["data"]["checkOut"]["loan"] is not None
    [(action, reason)] = await _audit(api)
    assert action == "checkout_override" and reason is not None and reason.endswith("館長判断")
    clean = await factory.patron("yomu2468")
    quiet = await factory.copy(await factory.record("静かな本"), central)
    fine = await api.gql(
        CHECK_OUT,
        {"c": clean.card_number, "b": quiet.barcode, "l": gid("Library", central.id), "o": False},
        token=clerk,
    )
    assert fine["data"]["checkOut"]["errors"] == []


async def test_transit_answers_name_the_destination(api: Api, factory: Factory) -> None:
    # STAFF-4: a copy received (or checked in) where it is not going is refused, naming the
    # right library; at its destination it is received; the words are transit words.
    clerk = await desk(api, factory)
    central = await factory.library("CEN")
    north = await factory.library("KIT", LibraryKind.BRANCH, name="北図書館")
    south = await factory.library("MIN", LibraryKind.BRANCH, name="南図書館")
    rec = await factory.record("旅する本")
    copy = await factory.copy(rec, central)
    patron = await factory.patron("yomu2468")
    await hold_for(api, await api.login(patron.card_number, "yomu2468"), rec.id, north.id)
    sent = await api.gql(
        CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=clerk
    )
    answer = sent["data"]["checkIn"]
    assert answer["destination"]["code"] == "KIT" and "回送" in answer["instruction"]
    assert "北図書館" in answer["instruction"] and "貸出" not in answer["instruction"]
    for mutation, name in ((CHECK_IN, "checkIn"), (RECEIVE, "receiveTransit")):
        wrong = await api.gql(
            mutation, {"b": copy.barcode, "l": gid("Library", south.id)}, token=clerk
        )
        [error] = wrong["data"][name]["errors"]
        assert error["code"] == "WRONG_LIBRARY" and "北図書館" in error["message"]
    english = await api.gql(
        RECEIVE,
        {"b": copy.barcode, "l": gid("Library", south.id)},
        token=clerk,
        headers={"Accept-Language": "en"},
    )
    assert "send it there" in english["data"]["receiveTransit"]["errors"][0]["message"]
    arrived = await api.gql(
        CHECK_IN, {"b": copy.barcode, "l": gid("Library", north.id)}, token=clerk
    )
    assert arrived["data"]["checkIn"]["hold"]["state"] == "READY"
    assert "予約棚" in arrived["data"]["checkIn"]["instruction"]


async def test_register_update_and_renew_a_patron(api: Api, factory: Factory) -> None:
    # STAFF-1: staff register patrons, renew cards and correct details; STAFF-3: a phone.
    clerk = await desk(api, factory, StaffRole.PATRONS)
    counter_only = await desk(api, factory, name="counter")
    details = {
        "name": "新規 利用者",
        "nameKana": "シンキ リヨウシャ",
        "birthDate": "1980-01-02",
        "address": "茨木市駅前三丁目8-13",
        "phone": "072-620-1600",
        "contactMethod": "PHONE",
    }
    made = await api.gql(REGISTER, {"d": details, "c": "4000000001"}, token=clerk)
    patron = made["data"]["registerPatron"]["patron"]
    assert patron["phone"] == "072-620-1600" and patron["contactMethod"] == "PHONE"
    assert (
        patron["cardExpiresOn"]
        == factory.today().replace(year=factory.today().year + 3).isoformat()
    )
    again = await api.gql(REGISTER, {"d": details, "c": "4000000001"}, token=clerk)
    assert errs(again["data"]["registerPatron"]["errors"]) == ["CARD_NUMBER_TAKEN"]
    phoneless = await api.gql(REGISTER, {"d": {**details, "phone": None}}, token=clerk)
    assert made["data"]["registerPatron"]["errors"] == []
    [bad] = phoneless["data"]["registerPatron"]["errors"]
    assert (bad["code"], bad["field"]) == ("INVALID_INPUT", "phone")
    forbidden = await api.gql(REGISTER, {"d": details}, token=counter_only)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    changed = await api.gql(
        UPDATE,
        {"c": "4000000001", "d": {**details, "email": "new@example.jp", "contactMethod": "EMAIL"}},
        token=clerk,
    )
    assert changed["data"]["updatePatron"]["patron"]["contactMethod"] == "EMAIL"
    expired = await factory.patron("yomu2468", expires_in_days=-3)
    renewed = await api.gql(RENEW_CARD, {"c": expired.card_number}, token=clerk)
    new_expiry = renewed["data"]["renewCard"]["patron"]["cardExpiresOn"]
    assert new_expiry == factory.today().replace(year=factory.today().year + 3).isoformat()
    assert [a for a, _ in await _audit(api)] == [
        "patron_registered",
        "patron_updated",
        "card_renewed",
    ]


async def test_desk_lists_and_the_call_list(api: Api, factory: Factory) -> None:
    # HOLD-5 pull list with call number, shelf location, pickup library and card (STAFF-5);
    # the hold shelf, expired holds, transits; STAFF-3 call list and marking a call.
    clerk = await desk(api, factory)
    central = await factory.library("CEN")
    north = await factory.library("KIT", LibraryKind.BRANCH)
    phoner = await factory.patron("yomu2468", contact_method=ContactMethod.PHONE, phone="0726")
    bounced = await factory.patron("yomu2468", email1="x@example.jp", email1_failure="550")
    mailer = await factory.patron(
        "yomu2468", contact_method=ContactMethod.EMAIL, email1="m@example.jp"
    )
    recs = [await factory.record(f"本{i}") for i in range(4)]
    copies = [
        await factory.copy(r, central, shelf_mark=f"913.6 ア{i}", shelf_location="一般書架")
        for i, r in enumerate(recs)
    ]
    for patron, rec in zip((phoner, bounced, mailer), recs, strict=False):
        await hold_for(api, await api.login(patron.card_number, "yomu2468"), rec.id, central.id)
    await hold_for(api, await api.login(mailer.card_number, "yomu2468"), recs[3].id, north.id)
    tomorrow = (factory.today() + timedelta(days=1)).isoformat()
    pull = (await api.gql(PULL, {"l": gid("Library", central.id), "d": tomorrow}, token=clerk))[
        "data"
    ]["pullList"]
    row = next(p for p in pull if p["record"]["title"] == "本0")
    assert row["copy"]["callNumber"] == "913.6 ア0" and row["copy"]["shelfLocation"] == "一般書架"
    assert row["firstHold"]["patron"]["cardNumber"] == phoner.card_number
    assert row["firstHold"]["pickupLibrary"]["code"] == "CEN"
    for copy in copies:
        await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=clerk)
    lib = {"l": gid("Library", central.id)}
    shelf = (await api.gql(HOLD_SHELF, lib, token=clerk))["data"]["holdShelf"]
    assert len(shelf) == 3 and shelf[0]["copy"]["callNumber"].startswith("913.6")
    calls = (await api.gql(CALL_LIST, lib, token=clerk))["data"]["callList"]
    assert sorted(c["patron"]["cardNumber"] for c in calls) == sorted(
        [phoner.card_number, bounced.card_number]
    )
    done = await api.gql(CALLED, {"h": calls[0]["id"], "o": "本人に伝えた"}, token=clerk)
    assert done["data"]["markCalled"]["hold"]["callOutcome"] == "本人に伝えた"
    assert len((await api.gql(CALL_LIST, lib, token=clerk))["data"]["callList"]) == 1
    transits = (await api.gql(TRANSITS, {"l": gid("Library", north.id)}, token=clerk))["data"]
    assert [t["copy"]["record"]["title"] for t in transits["transitsExpected"]] == ["本3"]
    assert (await api.gql(EXPIRED, lib, token=clerk))["data"]["expiredHolds"] == []
    factory.clock.advance(timedelta(days=30))
    clerk = await api.staff_login("desk", "staffpass1")
    assert len((await api.gql(EXPIRED, lib, token=clerk))["data"]["expiredHolds"]) == 3
    panel = await api.gql(DESK_PATRON, {"c": phoner.card_number}, token=clerk)
    assert panel["data"]["deskPatron"]["holds"][0]["state"] == "READY"
    patron_token = await api.login(phoner.card_number, "yomu2468")
    refused = await api.gql(DESK_PATRON, {"c": phoner.card_number}, token=patron_token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # STAFF-1
    # STAFF-1: the counter sees the mail log (a bounced address is why a patron is phoned).
    log = await api.gql(MAIL_LOG, {"c": mailer.card_number}, token=clerk)
    assert "errors" not in log and {m["kind"] for m in log["data"]["mailLog"]} == {"hold_ready"}


async def _loan_and_ready_hold(api: Api, factory: Factory) -> tuple[str, Library, Loan, Hold]:
    """A calendar clerk, a library open every day, and an e-mail patron there with a loan
    due in 3 days and a hold just made ready (SVC-3's two kinds of date)."""
    clerk = await desk(api, factory, StaffRole.COUNTER, StaffRole.CALENDAR)
    central = await factory.library("CEN", closed_weekdays="")
    patron = await factory.patron(
        "yomu2468", contact_method=ContactMethod.EMAIL, email1="p@example.jp"
    )
    loan = await factory.loan(
        patron, await factory.copy(await factory.record("期限の本"), central), due_in_days=3
    )
    rec = await factory.record("取置の本")
    copy = await factory.copy(rec, central)
    await hold_for(api, await api.login(patron.card_number, "yomu2468"), rec.id, central.id)
    await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=clerk)
    async with api.app.state.services.sessions() as db:
        hold = (await db.execute(select(Hold))).scalar_one()
    return clerk, central, loan, hold


async def test_closing_a_day_moves_due_dates_and_deadlines(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # SVC-3: closing a day moves what falls on it to the next opening day, with notices.
    clerk, central, loan, hold = await _loan_and_ready_hold(api, factory)
    assert hold.state is HoldState.READY and hold.pickup_deadline is not None
    due = loan.due_on
    for day in {due, hold.pickup_deadline}:
        closed = await api.gql(
            SET_DAY,
            {"l": gid("Library", central.id), "d": day.isoformat(), "o": False},
            token=clerk,
        )
        assert "errors" not in closed, closed
    async with api.app.state.services.sessions() as db:
        moved_loan = await db.get(type(loan), loan.id)
        moved_hold = await db.get(Hold, hold.id)
        mails = (await db.execute(select(OutboxMessage.kind))).scalars().all()
    assert moved_loan is not None and moved_loan.due_on == due + timedelta(days=1)
    assert (
        moved_hold is not None
        and moved_hold.pickup_deadline == hold.pickup_deadline + timedelta(days=1)
    )
    assert sorted(mails) == ["due_reminder", "hold_ready", "hold_ready"]


async def test_a_ready_hold_moved_tells_the_patron_the_new_library(
    api: Api, factory: Factory
) -> None:
    # STAFF-2 + MAIL-1: a READY hold moved to another library is ready again there, and the
    # patron gets a hold-ready mail naming the new pickup library.
    clerk = await desk(api, factory)
    central = await factory.library("CEN")
    north = await factory.library("KIT", LibraryKind.BRANCH, name="北図書館")
    rec = await factory.record("移る本")
    copy = await factory.copy(rec, central)
    patron = await factory.patron(
        "yomu2468", contact_method=ContactMethod.EMAIL, email1="p@example.jp"
    )
    hold_id = await hold_for(
        api, await api.login(patron.card_number, "yomu2468"), rec.id, central.id
    )
    await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=clerk)
    await api.gql(
        MOVE_FOR, {"h": hold_id, "p": gid("Library", north.id), "why": "電話で変更"}, token=clerk
    )
    got = await api.gql(RECEIVE, {"b": copy.barcode, "l": gid("Library", north.id)}, token=clerk)
    assert got["data"]["receiveTransit"]["hold"]["state"] == "READY"
    async with api.app.state.services.sessions() as db:
        mails = (
            (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "hold_ready")))
            .scalars()
            .all()
        )
    assert [m.payload["pickup_library"] for m in mails] == [central.name, "北図書館"]


async def test_new_weekly_closing_days_move_due_dates_and_deadlines(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # SVC-3: closing a weekday every week closes each of those days: what falls on one moves
    # to the next opening day, with the usual notices; the past is not rewritten.
    clerk, central, loan, hold = await _loan_and_ready_hold(api, factory)
    assert hold.pickup_deadline is not None and hold.pickup_deadline != loan.due_on
    weekdays = sorted({loan.due_on.isoweekday(), hold.pickup_deadline.isoweekday()})
    answer = await api.gql(
        "mutation($l: ID!, $w: [Int!]!) { setClosedWeekdays(libraryId: $l, weekdays: $w) { id } }",
        {"l": gid("Library", central.id), "w": weekdays},
        token=clerk,
    )
    assert "errors" not in answer, answer
    async with api.app.state.services.sessions() as db:
        moved_loan = await db.get(type(loan), loan.id, populate_existing=True)
        moved_hold = await db.get(Hold, hold.id, populate_existing=True)
        mails = (await db.execute(select(OutboxMessage.kind))).scalars().all()
    assert moved_loan is not None and moved_loan.due_on > loan.due_on
    assert moved_loan.due_on.isoweekday() not in weekdays
    assert moved_hold is not None and moved_hold.pickup_deadline is not None
    assert moved_hold.pickup_deadline > hold.pickup_deadline
    assert moved_hold.pickup_deadline.isoweekday() not in weekdays
    assert sorted(mails) == ["due_reminder", "hold_ready", "hold_ready"]
