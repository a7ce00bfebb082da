"""A web password application with no address on file becomes a staff application (AUTH-3):
the answer is the same for everyone, the typed address is never kept, one card has at most
one open application, and staff hand the temporary password over at the counter (AUTH-5)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Application, OutboxMessage, Patron, StaffAudit
from policies.enums import ApplicationKind, ApplicationState, PasswordState, StaffRole
from tests.support import Api, Factory, codes

APPLY = """mutation($c: String!, $b: Date!, $e: String!) {
  applyForPassword(cardNumber: $c, birthDate: $b, email: $e) { accepted message errors { code } } }"""
QUEUE = """query($s: ApplicationState!) { applications(state: $s) {
  id kind state name birthDate email cardNumber matchedPatron details } }"""
DECIDE = """mutation($a: ID!, $ok: Boolean!) { decideApplication(applicationId: $a, approve: $ok) {
  application { kind state } temporaryPassword errors { code rule field } } }"""
ISSUE = """mutation($c: String!) { issuePassword(cardNumber: $c) { temporaryPassword errors { code } } }"""
INVALIDATE = """mutation($c: String!) { invalidatePassword(cardNumber: $c) { errors { code } } }"""
LOGIN = """mutation($c: String!, $p: String!) { login(cardNumber: $c, password: $p, delivery: BEARER) {
  accessToken mustChangePassword errors { code } } }"""
SUBMIT = """mutation($i: ApplicationInput!) { submitApplication(input: $i) {
  accepted errors { code field } } }"""
TYPED = "typed-by-applicant@example.jp"


async def _rows(api: Api) -> tuple[list[Application], list[OutboxMessage]]:
    async with api.app.state.services.sessions() as db:
        apps = (await db.execute(select(Application).order_by(Application.id))).scalars().all()
        mails = (await db.execute(select(OutboxMessage))).scalars().all()
    return list(apps), list(mails)


async def _patron(api: Api, patron_id: int) -> Patron:
    async with api.app.state.services.sessions() as db:
        row = await db.get(Patron, patron_id)
    assert row is not None
    return row


async def _apply(api: Api, card: str, birth: str = "2000-06-01") -> dict[str, Any]:
    body = await api.gql(APPLY, {"c": card, "b": birth, "e": TYPED})
    answer: dict[str, Any] = body["data"]["applyForPassword"]
    return answer


async def _desk(api: Api, factory: Factory) -> str:
    await factory.staff("desk", "staffpass1", {StaffRole.PATRONS})
    return await api.staff_login("desk", "staffpass1")


async def _decide(api: Api, token: str, app_id: str, approve: bool) -> dict[str, Any]:
    body = await api.gql(DECIDE, {"a": app_id, "ok": approve}, token=token)
    payload: dict[str, Any] = body["data"]["decideApplication"]
    return payload


async def test_no_address_on_file_becomes_one_staff_application(api: Api, factory: Factory) -> None:
    # AUTH-3: card number + birth date of a card with no password and no address on file
    # queue exactly one staff application; no mail, nothing typed is kept, and the answer is
    # the one every other applicant gets (AUTH-8 style: no oracle).
    patron = await factory.patron(None, birth_date=date(2000, 6, 1), name="茨木 花子")
    has_password = await factory.patron("yomu2468", birth_date=date(2000, 6, 1))
    has_address = await factory.patron(None, birth_date=date(2000, 6, 1), email1="h@example.jp")
    others = [
        await _apply(api, "0000000000"),  # no such card
        await _apply(api, patron.card_number, "2000-06-02"),  # wrong birth date
        await _apply(api, has_password.card_number),  # already has a password
        await _apply(api, has_address.card_number),  # an address on file, not this one
    ]
    assert await _rows(api) == ([], [])
    hit = await _apply(api, patron.card_number)
    assert all(other == hit for other in others) and hit["accepted"] and hit["errors"] == []
    again = await _apply(api, patron.card_number)  # a repeat: still one open application
    assert again == hit
    [app], mails = await _rows(api)
    assert mails == []
    assert (app.kind, app.state, app.patron_id) == (
        ApplicationKind.PASSWORD_ISSUE,
        ApplicationState.PENDING,
        patron.id,
    )
    assert (app.card_number, app.name, app.birth_date) == (
        patron.card_number,
        "茨木 花子",
        date(2000, 6, 1),
    )
    assert app.email is None and TYPED not in repr(vars(app))  # the typed address is not kept
    row = await _patron(api, patron.id)
    assert (row.password_state, row.email1, row.email2) == (PasswordState.NONE, None, None)


async def test_staff_approve_hands_over_a_temporary_password(api: Api, factory: Factory) -> None:
    # AUTH-3 / AUTH-5: staff see the application with the patron's card; approving it issues
    # a temporary password shown once to staff (never stored, never mailed); the patron logs
    # in with it and must change it first.
    patron = await factory.patron(None, birth_date=date(2000, 6, 1))
    await _apply(api, patron.card_number)
    desk = await _desk(api, factory)
    [listed] = (await api.gql(QUEUE, {"s": "PENDING"}, token=desk))["data"]["applications"]
    assert listed["kind"] == "PASSWORD_ISSUE" and listed["cardNumber"] == patron.card_number
    assert listed["matchedPatron"] is True and listed["email"] is None
    decided = await _decide(api, desk, listed["id"], True)
    assert decided["errors"] == []
    assert decided["application"] == {"kind": "PASSWORD_ISSUE", "state": "APPROVED"}
    temporary = decided["temporaryPassword"]
    assert isinstance(temporary, str) and len(temporary) == 8
    [app], mails = await _rows(api)
    assert mails == [] and temporary not in repr(vars(app))
    assert (await _patron(api, patron.id)).password_state is PasswordState.TEMPORARY
    login = (await api.gql(LOGIN, {"c": patron.card_number, "p": temporary}))["data"]["login"]
    assert login["errors"] == [] and login["mustChangePassword"] is True
    assert codes(await api.gql("{ myLoans { dueOn } }", token=login["accessToken"])) == [
        "TEMPORARY_PASSWORD"
    ]
    async with api.app.state.services.sessions() as db:
        acts = (await db.execute(select(StaffAudit.action, StaffAudit.patron_id))).all()
    assert ("password_issued", patron.id) in acts
    twice = await _decide(api, desk, listed["id"], True)
    assert [e["code"] for e in twice["errors"]] == ["ALREADY_DECIDED"]
    assert twice["temporaryPassword"] is None


async def test_staff_reject_closes_and_a_new_application_may_follow(
    api: Api, factory: Factory
) -> None:
    # AUTH-3: rejecting closes the application and changes nothing on the card; only an
    # open application stops another one.
    patron = await factory.patron(None, birth_date=date(2000, 6, 1))
    await _apply(api, patron.card_number)
    desk = await _desk(api, factory)
    [listed] = (await api.gql(QUEUE, {"s": "PENDING"}, token=desk))["data"]["applications"]
    rejected = await _decide(api, desk, listed["id"], False)
    assert rejected["application"]["state"] == "REJECTED"
    assert rejected["temporaryPassword"] is None
    assert (await _patron(api, patron.id)).password_state is PasswordState.NONE
    assert (await api.gql(QUEUE, {"s": "PENDING"}, token=desk))["data"]["applications"] == []
    await _apply(api, patron.card_number)
    apps, mails = await _rows(api)
    assert [a.state for a in apps] == [ApplicationState.REJECTED, ApplicationState.PENDING]
    assert mails == []


async def test_approval_refused_once_the_card_has_moved_on(api: Api, factory: Factory) -> None:
    # AUTH-3 / AUTH-9: a card that got a password meanwhile, or whose password was
    # invalidated at the counter, is not given another by approval: a clear code, and the
    # application stays open for staff to reject.
    issued = await factory.patron(None, birth_date=date(2000, 6, 1))
    invalidated = await factory.patron(None, birth_date=date(2000, 6, 1))
    await _apply(api, issued.card_number)
    await _apply(api, invalidated.card_number)
    desk = await _desk(api, factory)
    first, second = (await api.gql(QUEUE, {"s": "PENDING"}, token=desk))["data"]["applications"]
    counter = (await api.gql(ISSUE, {"c": issued.card_number}, token=desk))["data"]
    assert counter["issuePassword"]["errors"] == []
    gone = await api.gql(INVALIDATE, {"c": invalidated.card_number}, token=desk)
    assert gone["data"]["invalidatePassword"]["errors"] == []
    before = (await _patron(api, issued.id)).password_hash
    refused = await _decide(api, desk, first["id"], True)
    assert refused["errors"] == [
        {"code": "PASSWORD_ALREADY_ISSUED", "rule": "AUTH-3", "field": None}
    ]
    assert refused["temporaryPassword"] is None
    assert (await _patron(api, issued.id)).password_hash == before
    refused = await _decide(api, desk, second["id"], True)
    assert refused["errors"] == [{"code": "PASSWORD_INVALIDATED", "rule": "AUTH-9", "field": None}]
    assert (await _patron(api, invalidated.id)).password_state is PasswordState.INVALIDATED
    apps, _ = await _rows(api)
    assert [a.state for a in apps] == [ApplicationState.PENDING] * 2
    assert (await _decide(api, desk, first["id"], False))["application"]["state"] == "REJECTED"


async def test_only_patron_desk_staff_decide(api: Api, factory: Factory) -> None:
    # AUTH-3 / STAFF-1: patrons and staff without the patrons role are refused; a bad id is
    # NOT_FOUND; none of it changes anything. The public cannot file this kind themselves.
    patron = await factory.patron(None, birth_date=date(2000, 6, 1))
    await _apply(api, patron.card_number)
    desk = await _desk(api, factory)
    await factory.staff("shelf", "staffpass2", {StaffRole.COUNTER})
    shelf = await api.staff_login("shelf", "staffpass2")
    reader = await api.login((await factory.patron("yomu2468")).card_number, "yomu2468")
    [listed] = (await api.gql(QUEUE, {"s": "PENDING"}, token=desk))["data"]["applications"]
    for token in (shelf, reader):
        body = await api.gql(DECIDE, {"a": listed["id"], "ok": True}, token=token)
        assert codes(body) == ["FORBIDDEN"]
        assert codes(await api.gql(QUEUE, {"s": "PENDING"}, token=token)) == ["FORBIDDEN"]
    for bad in ("nope", "QXBwbGljYXRpb246OTk5OTk"):
        assert [e["code"] for e in (await _decide(api, desk, bad, True))["errors"]] == ["NOT_FOUND"]
    submitted = await api.gql(
        SUBMIT,
        {
            "i": {
                "kind": "PASSWORD_ISSUE",
                "name": "茨木 花子",
                "birthDate": "2000-06-01",
                "email": "h@example.jp",
                "cardNumber": patron.card_number,
            }
        },
    )
    assert submitted["data"]["submitApplication"] == {
        "accepted": False,
        "errors": [{"code": "INVALID_INPUT", "field": "kind"}],
    }
    [app], mails = await _rows(api)
    assert app.state is ApplicationState.PENDING and mails == []
    assert (await _patron(api, patron.id)).password_state is PasswordState.NONE


async def test_the_database_keeps_one_open_password_application_per_card(
    api: Api, factory: Factory
) -> None:
    # AUTH-3: behind the patron row lock, a partial unique index refuses a second open
    # password application for one card; closed ones and other kinds are not limited.
    patron = await factory.patron(None, birth_date=date(2000, 6, 1))

    def row(kind: ApplicationKind, state: ApplicationState) -> Application:
        return Application(
            kind=kind,
            state=state,
            name=patron.name,
            birth_date=patron.birth_date,
            email=None,
            card_number=patron.card_number,
            patron_id=patron.id,
            created_at=factory.clock.now(),
        )

    await factory.add(
        row(ApplicationKind.PASSWORD_ISSUE, ApplicationState.PENDING),
        row(ApplicationKind.PASSWORD_ISSUE, ApplicationState.REJECTED),
        row(ApplicationKind.PASSWORD_ISSUE, ApplicationState.REJECTED),
        row(ApplicationKind.CARD_RENEWAL, ApplicationState.PENDING),
        row(ApplicationKind.CARD_RENEWAL, ApplicationState.PENDING),
    )
    with pytest.raises(IntegrityError):
        await factory.add(row(ApplicationKind.PASSWORD_ISSUE, ApplicationState.PENDING))


async def test_repeats_are_throttled_and_stay_one_application(api: Api, factory: Factory) -> None:
    # AUTH-3 / AUTH-8: repeating the application is throttled per card like any anonymous
    # password request, and however often it came, one application is open.
    patron = await factory.patron(None, birth_date=date(2000, 6, 1))
    answers = [await _apply(api, patron.card_number) for _ in range(10)]
    accepted = [a for a in answers if a["accepted"]]
    refused = answers[len(accepted) :]
    assert len(accepted) >= 2 and all(a == accepted[0] for a in accepted)
    assert refused and all(a["errors"] == [{"code": "RATE_LIMITED"}] for a in refused)
    apps, mails = await _rows(api)
    assert [(a.kind, a.state) for a in apps] == [
        (ApplicationKind.PASSWORD_ISSUE, ApplicationState.PENDING)
    ]
    assert mails == []
