"""Password applications, resets and invalidation (AUTH-2, AUTH-3, AUTH-4, AUTH-8, AUTH-9)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from models import OutboxMessage, Patron, StaffAudit
from policies.enums import PasswordState, StaffRole
from tests.support import Api, Factory, codes

RESET = """mutation($c: String!, $e: String!) { requestPasswordReset(cardNumber: $c, email: $e) {
  accepted message errors { code retryAfter } } }"""
APPLY = """mutation($c: String!, $b: Date!, $e: String!) { applyForPassword(cardNumber: $c, birthDate: $b, email: $e) {
  accepted message errors { code rule } } }"""
ISSUE = """mutation($c: String!, $g: Boolean!, $p: Boolean!) { issuePassword(cardNumber: $c, guardianConsent: $g, proxy: $p) {
  temporaryPassword patron { passwordState mustChangePassword } errors { code rule } } }"""
INVALIDATE = """mutation($c: String!, $l: Boolean!) { invalidatePassword(cardNumber: $c, leftCity: $l) {
  patron { passwordState cardExpiresOn } errors { code } } }"""
LOGIN = """mutation($c: String!, $p: String!) { login(cardNumber: $c, password: $p, delivery: BEARER) {
  accessToken mustChangePassword errors { code } } }"""


async def _mails(api: Api) -> list[OutboxMessage]:
    async with api.app.state.services.sessions() as db:
        return list((await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def _patron(api: Api, patron_id: int) -> Patron:
    async with api.app.state.services.sessions() as db:
        row = await db.get(Patron, patron_id)
    assert row is not None
    return row


async def test_reset_by_card_and_registered_address(api: Api, factory: Factory) -> None:
    # AUTH-8 / MAIL-6: the pair re-issues a temporary password by mail; the answer is the
    # same whether or not it matched, and a non-match changes nothing.
    patron = await factory.patron("yomu2468", email1="hanako@example.jp")
    no_address = await factory.patron("yomu2468")
    old_session = await api.login(patron.card_number, "yomu2468")
    answers = []
    for card, email in (
        ("0000000000", "hanako@example.jp"),
        (patron.card_number, "other@example.jp"),
        (no_address.card_number, "hanako@example.jp"),
        (patron.card_number, "not an address"),
    ):
        answers.append(
            (await api.gql(RESET, {"c": card, "e": email}))["data"]["requestPasswordReset"]
        )
    assert await _mails(api) == []
    assert (await _patron(api, patron.id)).password_state is PasswordState.ACTIVE
    hit = (await api.gql(RESET, {"c": patron.card_number, "e": "HANAKO@example.jp"}))["data"][
        "requestPasswordReset"
    ]
    assert all(a == hit for a in answers) and hit["accepted"] and hit["errors"] == []
    [mail] = await _mails(api)
    assert mail.kind == "temporary_password" and mail.patron_id == patron.id
    temporary = str(mail.payload["temporary_password"])
    assert api.app.state.nudges  # the dispatcher was woken for it
    # The old session lasts until the temporary password is used (AUTH-8, issue [R2 3/9];
    # tests/selfservice/test_reset_keeps_password.py).
    assert codes(await api.gql("{ me { name } }", token=old_session)) == []
    login = (await api.gql(LOGIN, {"c": patron.card_number, "p": temporary}))["data"]["login"]
    assert login["mustChangePassword"] is True
    assert codes(await api.gql("{ me { name } }", token=old_session)) == ["UNAUTHENTICATED"]


async def test_reset_requests_are_throttled_alike(api: Api, factory: Factory) -> None:
    # AUTH-8 / AUTH-11: repeated requests are refused with RATE_LIMITED, known card or not.
    patron = await factory.patron("yomu2468", email1="hanako@example.jp")
    for card in (patron.card_number, "0000000000"):
        for _ in range(5):
            await api.gql(RESET, {"c": card, "e": "x@example.jp"})
        sixth = (await api.gql(RESET, {"c": card, "e": "x@example.jp"}))["data"][
            "requestPasswordReset"
        ]
        assert sixth["accepted"] is False
        assert sixth["errors"][0]["code"] == "RATE_LIMITED" and sixth["errors"][0]["retryAfter"] > 0


async def test_web_application_for_middle_school_and_older(api: Api, factory: Factory) -> None:
    # AUTH-3: the web application is for middle-school age and older; it mails a temporary
    # password to the given address when the library holds it for the card; a wrong birth
    # date changes nothing (tests/selfservice/test_password_application.py: other addresses).
    patron = await factory.patron(None, birth_date=date(2000, 6, 1), email1="p@example.jp")
    child = await factory.patron(None, birth_date=date(2016, 6, 1))
    young = (
        await api.gql(APPLY, {"c": child.card_number, "b": "2016-06-01", "e": "c@example.jp"})
    )["data"]["applyForPassword"]
    assert young["errors"] == [{"code": "COUNTER_ONLY", "rule": "AUTH-3"}]
    wrong = (
        await api.gql(APPLY, {"c": patron.card_number, "b": "2000-06-02", "e": "p@example.jp"})
    )["data"]["applyForPassword"]
    assert wrong["accepted"] is True and await _mails(api) == []
    right = (
        await api.gql(APPLY, {"c": patron.card_number, "b": "2000-06-01", "e": "p@example.jp"})
    )["data"]["applyForPassword"]
    assert right == wrong
    row = await _patron(api, patron.id)
    assert row.password_state is PasswordState.TEMPORARY and row.email1 == "p@example.jp"
    assert [m.kind for m in await _mails(api)] == ["temporary_password"]


async def test_counter_issue_with_school_age_rules(api: Api, factory: Factory) -> None:
    # AUTH-2: elementary-school age or older, pupils with a guardian's consent; AUTH-4: a
    # proxy application is taken at the counter; patrons never reach it (STAFF-1).
    await factory.staff("desk", "staffpass1", {StaffRole.PATRONS})
    desk = await api.staff_login("desk", "staffpass1")
    toddler = await factory.patron(None, birth_date=date(2022, 1, 1))
    pupil = await factory.patron(None, birth_date=date(2018, 5, 5))
    adult = await factory.patron(None)

    async def issue(card: str, consent: bool, proxy: bool = False) -> dict[str, Any]:
        body = await api.gql(ISSUE, {"c": card, "g": consent, "p": proxy}, token=desk)
        payload: dict[str, Any] = body["data"]["issuePassword"]
        return payload

    assert (await issue(toddler.card_number, True))["errors"] == [
        {"code": "TOO_YOUNG", "rule": "AUTH-2"}
    ]
    assert (await issue(pupil.card_number, False))["errors"] == [
        {"code": "GUARDIAN_CONSENT_REQUIRED", "rule": "AUTH-2"}
    ]
    ok = await issue(pupil.card_number, True)
    assert ok["patron"] == {"passwordState": "TEMPORARY", "mustChangePassword": True}
    assert (await _patron(api, pupil.id)).guardian_consent is True
    proxy = await issue(adult.card_number, False, proxy=True)
    temporary = proxy["temporaryPassword"]
    assert len(temporary) == 8
    async with api.app.state.services.sessions() as db:
        actions = (await db.execute(select(StaffAudit.action, StaffAudit.patron_id))).all()
    assert ("proxy_password_application", adult.id) in actions  # AUTH-4: recorded
    assert (await api.gql(LOGIN, {"c": adult.card_number, "p": temporary}))["data"]["login"][
        "mustChangePassword"
    ]
    patron_token = await api.login((await factory.patron("yomu2468")).card_number, "yomu2468")
    assert codes(
        await api.gql(ISSUE, {"c": adult.card_number, "g": False, "p": False}, token=patron_token)
    ) == ["FORBIDDEN"]


async def test_invalidation_and_leaving_the_city(api: Api, factory: Factory) -> None:
    # AUTH-9: invalidating a password and leaving the city happen at the counter; the
    # password stops working and every session ends.
    await factory.staff("desk", "staffpass1", {StaffRole.PATRONS})
    desk = await api.staff_login("desk", "staffpass1")
    patron = await factory.patron("yomu2468")
    mover = await factory.patron("yomu2468")
    session = await api.login(patron.card_number, "yomu2468")
    body = await api.gql(INVALIDATE, {"c": patron.card_number, "l": False}, token=desk)
    assert body["data"]["invalidatePassword"]["patron"]["passwordState"] == "INVALIDATED"
    assert codes(await api.gql("{ me { name } }", token=session)) == ["UNAUTHENTICATED"]
    again = (await api.gql(LOGIN, {"c": patron.card_number, "p": "yomu2468"}))["data"]["login"]
    assert again["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    left = (await api.gql(INVALIDATE, {"c": mover.card_number, "l": True}, token=desk))["data"][
        "invalidatePassword"
    ]
    assert left["patron"]["cardExpiresOn"] < factory.today().isoformat()
