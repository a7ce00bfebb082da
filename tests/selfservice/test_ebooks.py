"""E-books (EBOOK-1..5) through the API, the sweep and the reader endpoint."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import EbookTitle, OutboxMessage, Record, StaffAudit
from policies.clock import FixedClock
from policies.enums import CardKind, MaterialType, PasswordState, StaffRole
from resolvers.ebooks.ebooks import sweep
from tests.circulation.ops import gid
from tests.support import Api, Factory

JST = ZoneInfo("Asia/Tokyo")
BORROW = "mutation($r: ID!) { borrowEbook(recordId: $r) { loan { id dueAt } errors { code rule reason } } }"
RETURN = "mutation($l: ID!) { returnEbook(loanId: $l) { loan { id } errors { code } } }"
HOLD = (
    "mutation($r: ID!) { placeEbookHold(recordId: $r) { hold { id state } errors { code rule } } }"
)
HOLDS = "{ myEbookHolds { state expiresAt record { title } } }"
LINK = (
    "mutation($l: ID!) { ebookReadingLink(loanId: $l) { link { url expiresAt } errors { code } } }"
)


async def _ebook(factory: Factory, title: str, licences: int = 1) -> Record:
    rec = await factory.record(title, material_type=MaterialType.EBOOK)
    await factory.add(EbookTitle(record_id=rec.id, licences=licences))
    return rec


async def _do(api: Api, query: str, token: str, **variables: Any) -> dict[str, Any]:
    body = await api.gql(query, variables, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


async def test_who_may_borrow(api: Api, factory: Factory) -> None:
    # EBOOK-1: active password, elementary-school age or older, not a wide-area card.
    rec = await _ebook(factory, "電子の本", licences=5)
    wide = await factory.patron("yomu2468", card_kind=CardKind.WIDE_AREA)
    small = await factory.patron("yomu2468", birth_date=date(2022, 1, 1))
    temp = await factory.patron("kari2468", state=PasswordState.TEMPORARY)
    for patron, reason in ((wide, "WIDE_AREA"), (small, "AGE")):
        token = await api.login(patron.card_number, "yomu2468")
        refused = await _do(api, BORROW, token, r=gid("Record", rec.id))
        assert refused["errors"] == [
            {"code": "EBOOK_NOT_ALLOWED", "rule": "EBOOK-1", "reason": reason}
        ]
    body = await api.gql(
        BORROW, {"r": gid("Record", rec.id)}, token=await api.login(temp.card_number, "kari2468")
    )
    assert body["errors"][0]["extensions"]["code"] == "TEMPORARY_PASSWORD"


async def test_three_loans_fifteen_days_and_licences(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # EBOOK-2: at most 3 loans, 15 days each, returned automatically; EBOOK-4: one licence
    # serves one patron at a time.
    books = [await _ebook(factory, f"電子 {i}") for i in range(4)]
    reader = await factory.patron("yomu2468")
    other = await factory.patron("yomu2468")
    token = await api.login(reader.card_number, "yomu2468")
    loans = [await _do(api, BORROW, token, r=gid("Record", b.id)) for b in books[:3]]
    assert all(loan["errors"] == [] for loan in loans)
    fourth = await _do(api, BORROW, token, r=gid("Record", books[3].id))
    assert fourth["errors"] == [{"code": "EBOOK_LOAN_LIMIT", "rule": "EBOOK-2", "reason": None}]
    other_token = await api.login(other.card_number, "yomu2468")
    taken = await _do(api, BORROW, other_token, r=gid("Record", books[0].id))
    assert taken["errors"][0]["code"] == "EBOOK_UNAVAILABLE"
    returned = await _do(api, RETURN, token, l=loans[1]["loan"]["id"])
    assert returned["errors"] == []
    assert (await _do(api, BORROW, other_token, r=gid("Record", books[1].id)))["errors"] == []
    clock.advance(timedelta(days=15))
    services = api.app.state.services
    assert await sweep(services.sessions, services.policy, clock.now()) == (3, 0)
    token = await api.login(reader.card_number, "yomu2468")
    assert (await api.gql("{ myEbookLoans { id } }", token=token))["data"]["myEbookLoans"] == []


async def test_holds_secured_kept_a_week_with_mail(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # EBOOK-3: at most 3 holds; a secured hold is kept a week, with a mail (MAIL-5); then
    # it expires and the licence goes on.
    rec = await _ebook(factory, "人気の電子書籍")
    holder = await factory.patron("yomu2468")
    first = await factory.patron("yomu2468", email1="first@example.jp")
    second = await factory.patron("yomu2468", email1="second@example.jp")
    t_holder = await api.login(holder.card_number, "yomu2468")
    loan = await _do(api, BORROW, t_holder, r=gid("Record", rec.id))
    t1 = await api.login(first.card_number, "yomu2468")
    assert (await _do(api, HOLD, t1, r=gid("Record", rec.id)))["hold"]["state"] == "WAITING"
    assert (await _do(api, HOLD, t1, r=gid("Record", rec.id)))["errors"][0][
        "code"
    ] == "ALREADY_HELD"
    clock.advance(timedelta(seconds=1))
    t2 = await api.login(second.card_number, "yomu2468")
    await _do(api, HOLD, t2, r=gid("Record", rec.id))
    others = [await _ebook(factory, f"別の電子書籍 {i}", licences=0) for i in range(3)]
    for book in others[:2]:
        assert (await _do(api, HOLD, t1, r=gid("Record", book.id)))["errors"] == []
    assert (await _do(api, HOLD, t1, r=gid("Record", others[2].id)))["errors"] == [
        {"code": "EBOOK_HOLD_LIMIT", "rule": "EBOOK-3"}
    ]
    await _do(api, RETURN, t_holder, l=loan["loan"]["id"])
    [secured] = [
        h
        for h in (await api.gql(HOLDS, token=t1))["data"]["myEbookHolds"]
        if h["record"]["title"] == "人気の電子書籍"
    ]
    assert secured["state"] == "READY" and secured["expiresAt"]
    async with api.app.state.services.sessions() as db:
        mails = (await db.execute(select(OutboxMessage.kind, OutboxMessage.patron_id))).all()
    assert mails == [("ebook_hold_ready", first.id)]
    taken = await _do(api, BORROW, t2, r=gid("Record", rec.id))
    assert taken["errors"][0]["code"] == "EBOOK_UNAVAILABLE"  # kept for the first in line
    services = api.app.state.services
    await _kept_to_the_end_of_the_stated_day(api, clock, first.id, secured["expiresAt"])
    assert await sweep(services.sessions, services.policy, clock.now()) == (0, 1)
    t2 = await api.login(second.card_number, "yomu2468")
    assert (await api.gql(HOLDS, token=t2))["data"]["myEbookHolds"][0]["state"] == "READY"
    assert (await _do(api, BORROW, t2, r=gid("Record", rec.id)))["errors"] == []
    assert (await api.gql(HOLDS, token=t2))["data"]["myEbookHolds"] == []


async def _kept_to_the_end_of_the_stated_day(
    api: Api, clock: FixedClock, patron_id: int, expires_at: str
) -> None:
    """EBOOK-3, from the guide: 「予約確保後、1週間取り置きます。」 and the mail states the
    last day: the hold is kept to the end of that library day (Asia/Tokyo), not to the
    clock time it was secured. Leaves the clock just past that end."""
    async with api.app.state.services.sessions() as db:
        mail = (
            await db.execute(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "ebook_hold_ready", OutboxMessage.patron_id == patron_id
                )
            )
        ).scalar_one()
    secured_day = (clock.now() + timedelta(hours=9)).date()
    assert mail.payload["deadline"] == (secured_day + timedelta(days=7)).isoformat()
    end = datetime.combine(secured_day + timedelta(days=8), time(0), tzinfo=JST)
    assert datetime.fromisoformat(expires_at) == end
    services = api.app.state.services
    clock.set(end - timedelta(minutes=1))  # 23:59 on the stated day: still kept
    assert await sweep(services.sessions, services.policy, clock.now()) == (0, 0)
    clock.set(end + timedelta(seconds=1))


async def test_reading_is_a_short_lived_link_not_a_file(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # EBOOK-5: the API hands out a signed, 10-minute reading link; a forged or stale link,
    # or one for a returned book, opens nothing.
    rec = await _ebook(factory, "読む本")
    reader = await factory.patron("yomu2468")
    token = await api.login(reader.card_number, "yomu2468")
    loan = (await _do(api, BORROW, token, r=gid("Record", rec.id)))["loan"]["id"]
    link = (await _do(api, LINK, token, l=loan))["link"]["url"]
    opened = await api.http.get(link)
    assert opened.status_code == 200 and "電子書籍リーダー" in opened.text
    assert opened.headers["content-type"].startswith("text/html")
    assert (await api.http.get(link.replace("sig=", "sig=0"))).status_code == 403
    clock.advance(timedelta(minutes=11))
    assert (await api.http.get(link)).status_code == 403
    token = await api.login(reader.card_number, "yomu2468")
    await _do(api, RETURN, token, l=loan)
    assert (await _do(api, LINK, token, l=loan))["errors"] == [{"code": "NOT_FOUND"}]


async def test_a_reading_link_ends_with_the_loan(api: Api, factory: Factory) -> None:
    # EBOOK-5: a link handed out before the return opens nothing after it, though its ten
    # minutes are not up; the sweep's automatic return ends it the same way.
    rec = await _ebook(factory, "返す本")
    reader = await factory.patron("yomu2468")
    token = await api.login(reader.card_number, "yomu2468")
    loan = (await _do(api, BORROW, token, r=gid("Record", rec.id)))["loan"]["id"]
    link = (await _do(api, LINK, token, l=loan))["link"]["url"]
    assert (await api.http.get(link)).status_code == 200
    await _do(api, RETURN, token, l=loan)
    returned = await api.http.get(link)
    assert returned.status_code == 403 and "電子書籍リーダー" not in returned.text


SET_LICENCES = """mutation($r: ID!, $n: Int!) { setEbookLicences(recordId: $r, licences: $n) {
  licences record { title } errors { code field } } }"""


async def test_staff_add_and_change_licences(api: Api, factory: Factory) -> None:
    """EBOOK-4: each e-book title has a number of licences; staff (catalogue role) add and
    change them. The guide: 「電子書籍の貸出、予約ができます。」 needs licences to lend."""
    rec = await factory.record("新しい電子書籍", material_type=MaterialType.EBOOK)
    paper = await factory.record("紙の本")
    await factory.staff("cat", "staffpass1", {StaffRole.CATALOGUE})
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    cat = await api.staff_login("cat", "staffpass1")
    desk = await api.staff_login("desk", "staffpass1")
    reader = await factory.patron("yomu2468", email1="r@example.jp")
    token = await api.login(reader.card_number, "yomu2468")
    assert (await _do(api, BORROW, token, r=gid("Record", rec.id)))["errors"][0]["code"] in (
        "EBOOK_UNAVAILABLE",
        "NOT_FOUND",
    )
    denied = await api.gql(SET_LICENCES, {"r": gid("Record", rec.id), "n": 2}, token=desk)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    patron_denied = await api.gql(SET_LICENCES, {"r": gid("Record", rec.id), "n": 2}, token=token)
    assert patron_denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    added = await _do(api, SET_LICENCES, cat, r=gid("Record", rec.id), n=1)
    assert added == {"licences": 1, "record": {"title": "新しい電子書籍"}, "errors": []}
    assert (await _do(api, BORROW, token, r=gid("Record", rec.id)))["errors"] == []
    second = await factory.patron("yomu2468", email1="s@example.jp")
    t2 = await api.login(second.card_number, "yomu2468")
    assert (await _do(api, HOLD, t2, r=gid("Record", rec.id)))["hold"]["state"] == "WAITING"
    await _do(api, SET_LICENCES, cat, r=gid("Record", rec.id), n=2)  # a licence more
    assert (await api.gql(HOLDS, token=t2))["data"]["myEbookHolds"][0]["state"] == "READY"
    for record, n, field_name in ((paper, 1, "recordId"), (rec, -1, "licences")):
        bad = await _do(api, SET_LICENCES, cat, r=gid("Record", record.id), n=n)
        assert bad["errors"] == [{"code": "INVALID_INPUT", "field": field_name}]
    unknown = await _do(api, SET_LICENCES, cat, r="junk", n=1)
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": "recordId"}]
    async with api.app.state.services.sessions() as db:
        actions = list((await db.execute(select(StaffAudit.action))).scalars())
    assert f"ebook_licences:{rec.id}:2" in actions
