"""Reading privacy: returns forget the reader by default; an opt-in history that opting out
erases; staff reads of personal data are audited (the [4/8] privacy requirement, STAFF-1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models import Library, Loan, Patron, StaffAudit, UsedCardCode
from policies.clock import FixedClock
from policies.enums import CopyStatus, StaffRole
from tests.circulation.ops import CHECK_IN, gid
from tests.support import Api, Factory, codes

HISTORY = "{ myReadingHistory { record { title } returnedAt } }"
KEEP = """mutation($k: Boolean!) { updatePreferences(input: {keepReadingHistory: $k}) {
  patron { keepReadingHistory } errors { code } } }"""


async def _return(
    api: Api, factory: Factory, patron: Patron, title: str, desk: str, lib: Library
) -> None:
    """Lend a copy of a new title to ``patron`` and check it in at the desk."""
    copy = await factory.copy(await factory.record(title), lib, status=CopyStatus.ON_LOAN)
    await factory.loan(patron, copy, due_in_days=3)
    body = await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", lib.id)}, token=desk)
    assert body["data"]["checkIn"]["returnedLoan"] is not None


async def test_returns_forget_the_reader_unless_opted_in(api: Api, factory: Factory) -> None:
    # Reading privacy: by default a returned loan keeps no link to the patron; an opted-in
    # patron sees a history; opting out erases it.
    lib = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    desk = await api.staff_login("desk", "staffpass1")
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    await _return(api, factory, patron, "忘れられる本", desk, lib)
    async with api.app.state.services.sessions() as db:
        assert (await db.execute(select(Loan.patron_id))).scalars().all() == [None]
    assert (await api.gql(HISTORY, token=token))["data"]["myReadingHistory"] == []
    assert (await api.gql(KEEP, {"k": True}, token=token))["data"]["updatePreferences"][
        "patron"
    ] == {"keepReadingHistory": True}
    await _return(api, factory, patron, "覚えている本", desk, lib)
    history = (await api.gql(HISTORY, token=token))["data"]["myReadingHistory"]
    assert [h["record"]["title"] for h in history] == ["覚えている本"] and history[0]["returnedAt"]
    await api.gql(KEEP, {"k": False}, token=token)
    assert (await api.gql(HISTORY, token=token))["data"]["myReadingHistory"] == []
    async with api.app.state.services.sessions() as db:
        assert set((await db.execute(select(Loan.patron_id))).scalars().all()) == {None}


async def test_staff_reads_are_audited(api: Api, factory: Factory) -> None:
    # STAFF-1 / reading privacy: reading a patron's data leaves a trace only admins see.
    patron = await factory.patron("yomu2468")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    await factory.staff("boss", "staffpass2", {StaffRole.ADMIN})
    desk = await api.staff_login("desk", "staffpass1")
    boss = await api.staff_login("boss", "staffpass2")
    await api.gql(
        "query($c: String!) { patron(cardNumber: $c) { name } }",
        {"c": patron.card_number},
        token=desk,
    )
    log = await api.gql(
        "query($c: String!) { staffAuditLog(cardNumber: $c) { action staffUsername at } }",
        {"c": patron.card_number},
        token=boss,
    )
    assert [(e["action"], e["staffUsername"]) for e in log["data"]["staffAuditLog"]] == [
        ("patron", "desk")
    ]
    denied = await api.gql(
        "query($c: String!) { staffAuditLog(cardNumber: $c) { action } }",
        {"c": patron.card_number},
        token=desk,
    )
    assert codes(denied) == ["FORBIDDEN"]


async def test_login_answers_the_patrons_own_privacy_setting(api: Api, factory: Factory) -> None:
    # Reading privacy / AUTH-1: the login payload's patron is the viewer's own record, so
    # the app reads `keepReadingHistory` in the same round trip (was UNAUTHENTICATED).
    patron = await factory.patron("yomu2468", keep_reading_history=True)
    body = await api.gql(
        """mutation($c: String!, $p: String!) { login(cardNumber: $c, password: $p,
        delivery: BEARER) { patron { keepReadingHistory email1 } errors { code } } }""",
        {"c": patron.card_number, "p": "yomu2468"},
    )
    assert "errors" not in body, body
    assert body["data"]["login"]["patron"] == {"keepReadingHistory": True, "email1": None}


CARD = "{ myCard { code } }"
OUT_BY_CODE = """mutation($k: String!, $b: String!, $l: ID!) {
  checkOut(cardCode: $k, barcode: $b, libraryId: $l) { loan { id } errors { code } } }"""


async def test_no_instant_lines_a_lookup_up_with_a_returned_loan(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # Reading privacy: the desk looks the patron up (audited) and lends by the digital card
    # (the code's use is kept against replays); once the loan is returned and forgotten, no
    # stored instant lies near the moment of the loan or the return, so no join on time
    # re-links them (a lookup 30 ms and a code use 7 ms before `loaned_at` did).
    lib = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    patron = await factory.patron("yomu2468")
    copy = await factory.copy(await factory.record("時刻で結ばれない本"), lib)
    clock.set(datetime(2026, 11, 30, 1, 17, 23, 456000, tzinfo=UTC))
    lent_at = clock.now()
    token = await api.login(patron.card_number, "yomu2468")
    desk = await api.staff_login("desk", "staffpass1")
    await api.gql(
        "query($c: String!) { patron(cardNumber: $c) { name } }",
        {"c": patron.card_number},
        token=desk,
    )
    code = (await api.gql(CARD, token=token))["data"]["myCard"]["code"]
    lent = await api.gql(
        OUT_BY_CODE, {"k": code, "b": copy.barcode, "l": gid("Library", lib.id)}, token=desk
    )
    assert lent["data"]["checkOut"]["errors"] == []
    clock.advance(timedelta(days=2, minutes=41, seconds=7))
    returned_at = clock.now()
    desk = await api.staff_login("desk", "staffpass1")
    await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", lib.id)}, token=desk)
    near = []
    async with api.app.state.services.sessions() as db:
        for model, column in (
            (Loan, Loan.loaned_at),
            (Loan, Loan.returned_at),
            (StaffAudit, StaffAudit.at),
            (UsedCardCode, UsedCardCode.used_at),
        ):
            for value in (await db.execute(select(column))).scalars():
                if any(abs(value - t) < timedelta(minutes=1) for t in (lent_at, returned_at)):
                    near.append((model.__tablename__, column.key, value))
        assert (await db.execute(select(Loan.patron_id))).scalars().all() == [None]
    assert near == []
