"""Web applications (APP-1): submitted by anyone, decided by staff, told by mail."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from models import OutboxMessage, Patron
from policies.enums import StaffRole
from resolvers.mail.mail import Claimed
from server.settings import Settings
from tests.support import Api, Factory, codes
from workers.compose import render

SUBMIT = """mutation($i: ApplicationInput!) { submitApplication(input: $i) { accepted errors { code field } } }"""
QUEUE = "{ applications { id kind name matchedPatron cardNumber } }"
DECIDE = """mutation($a: ID!, $ok: Boolean!, $n: String, $c: String) {
  decideApplication(applicationId: $a, approve: $ok, note: $n, cardNumber: $c) {
    application { state decisionNote } errors { code } } }"""


async def _submit(api: Api, **fields: Any) -> dict[str, Any]:
    body = await api.gql(SUBMIT, {"i": fields})
    payload: dict[str, Any] = body["data"]["submitApplication"]
    return payload


async def test_applications_are_checked_and_queued(api: Api, factory: Factory) -> None:
    # APP-1: the public applies for the five kinds; bad input is a clear code and queues
    # nothing; staff see the queue, patrons do not.
    patron = await factory.patron("yomu2468", birth_date=date(1980, 2, 3))
    base = {"name": "茨木 一郎", "birthDate": "1980-02-03", "email": "ichiro@example.jp"}
    for kind, extra in (
        ("NEW_REGISTRATION", {"details": "茨木市駅前1-1"}),
        ("CARD_REISSUE", {"cardNumber": patron.card_number}),
        ("DETAILS_CHANGE", {"cardNumber": patron.card_number, "details": "住所が変わりました"}),
        ("CARD_RENEWAL", {"cardNumber": "0000000000"}),
        ("CARD_NUMBER_NOTICE", {}),
    ):
        one = {**base, "email": f"{kind.lower()}@example.jp"}  # one applicant each
        assert await _submit(api, kind=kind, **one, **extra) == {"accepted": True, "errors": []}
    for bad, field in (
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"birthDate": "2999-01-01"}, "birthDate"),
        ({"email": "nope"}, "email"),
        ({"kind": "CARD_RENEWAL"}, "cardNumber"),
        ({"details": "x" * 1001}, "details"),
    ):
        answer = await _submit(api, **{"kind": "NEW_REGISTRATION", **base, **bad})
        assert answer["accepted"] is False and answer["errors"][0]["field"] == field, bad
    await factory.staff("desk", "staffpass1", {StaffRole.PATRONS})
    desk = await api.staff_login("desk", "staffpass1")
    queue = (await api.gql(QUEUE, token=desk))["data"]["applications"]
    assert [q["kind"] for q in queue] == [
        "NEW_REGISTRATION",
        "CARD_REISSUE",
        "DETAILS_CHANGE",
        "CARD_RENEWAL",
        "CARD_NUMBER_NOTICE",
    ]
    assert [q["matchedPatron"] for q in queue] == [False, True, True, False, False]
    token = await api.login(patron.card_number, "yomu2468")
    assert codes(await api.gql(QUEUE, token=token)) == ["FORBIDDEN"]


async def test_decisions_act_and_tell_the_applicant(api: Api, factory: Factory) -> None:
    # APP-1: approval registers, renews or re-issues; rejection changes nothing; either way
    # the applicant is told by mail; a decided application cannot be decided again.
    patron = await factory.patron("yomu2468", birth_date=date(1980, 2, 3), expires_in_days=10)
    base = {"name": "茨木 一郎", "birthDate": "1980-02-03", "email": "ichiro@example.jp"}
    await _submit(api, kind="NEW_REGISTRATION", **base)
    await _submit(api, kind="CARD_RENEWAL", cardNumber=patron.card_number, **base)
    await _submit(api, kind="CARD_REISSUE", cardNumber=patron.card_number, **base)
    await factory.staff("desk", "staffpass1", {StaffRole.PATRONS})
    desk = await api.staff_login("desk", "staffpass1")
    new, renew, reissue = [
        q["id"] for q in (await api.gql(QUEUE, token=desk))["data"]["applications"]
    ]
    ok = await api.gql(DECIDE, {"a": new, "ok": True}, token=desk)
    assert ok["data"]["decideApplication"]["application"]["state"] == "APPROVED"
    await api.gql(DECIDE, {"a": renew, "ok": True}, token=desk)
    no = await api.gql(
        DECIDE, {"a": reissue, "ok": False, "n": "窓口で本人確認をお願いします"}, token=desk
    )
    assert no["data"]["decideApplication"]["application"] == {
        "state": "REJECTED",
        "decisionNote": "窓口で本人確認をお願いします",
    }
    again = await api.gql(DECIDE, {"a": new, "ok": False}, token=desk)
    assert again["data"]["decideApplication"]["errors"] == [{"code": "ALREADY_DECIDED"}]
    async with api.app.state.services.sessions() as db:
        people = (await db.execute(select(Patron).order_by(Patron.id))).scalars().all()
        mails = (await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    assert (
        len(people) == 2
        and people[1].name == "茨木 一郎"
        and people[1].email1 == "ichiro@example.jp"
    )
    assert people[0].card_number == patron.card_number  # rejected re-issue changed nothing
    assert people[0].card_expires_on.year >= factory.today().year + 3  # renewed
    assert [m.kind for m in mails] == ["application_decision"] * 3
    assert api.app.state.nudges
    claimed = Claimed(
        id=mails[0].id,
        kind=mails[0].kind,
        dedupe_key=mails[0].dedupe_key,
        payload=mails[0].payload,
        attempts=0,
        patron_id=None,
        patron_name=None,
        addresses=("ichiro@example.jp",),
    )
    subject, body = render(
        "application_decision",
        {"name": "", "p": claimed.payload, "library": Settings().mail_from_name},
    )
    assert "web申請の結果" in subject and "新規登録" in body and people[1].card_number in body
