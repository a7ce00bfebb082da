"""Accounts through the API: login, temporary passwords, password change, idle logoff and
lockout (AUTH-1, AUTH-5, AUTH-6, AUTH-7, AUTH-10, AUTH-11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import LoginThrottleRow, Patron, Session
from policies.clock import FixedClock
from policies.enums import PasswordState
from tests.support import Api, Factory, codes

LOGIN = """mutation($c: String!, $p: String!) {
  login(cardNumber: $c, password: $p, delivery: BEARER) {
    accessToken mustChangePassword patron { cardNumber }
    errors { code rule retryAfter message }
  }
}"""
CHANGE = """mutation($old: String!, $new: String!) {
  changePassword(currentPassword: $old, newPassword: $new, delivery: BEARER) {
    accessToken patron { passwordState } errors { code field reason rule }
  }
}"""
MY_LOANS = "{ myLoans { dueOn } }"


async def _count(api: Api, model: type) -> int:
    async with api.app.state.services.sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_login_needs_card_and_registered_password(api: Api, factory: Factory) -> None:
    # AUTH-1: card number + password opens a session; a card without a password cannot.
    patron = await factory.patron("yomu2468")
    no_password = await factory.patron(None)
    ok = await api.gql(LOGIN, {"c": patron.card_number, "p": "yomu2468"})
    assert ok["data"]["login"]["accessToken"]
    assert ok["data"]["login"]["errors"] == []
    for card, password in ((no_password.card_number, "yomu2468"), (patron.card_number, "wrong123")):
        body = await api.gql(LOGIN, {"c": card, "p": password})
        assert body["data"]["login"]["accessToken"] is None
        assert [e["code"] for e in body["data"]["login"]["errors"]] == ["INVALID_CREDENTIALS"]


async def test_unknown_card_and_wrong_password_look_the_same(api: Api, factory: Factory) -> None:
    # AUTH-1 / AUTH-11: no account enumeration through login answers.
    patron = await factory.patron("yomu2468")
    wrong = await api.gql(LOGIN, {"c": patron.card_number, "p": "nope1234"})
    unknown = await api.gql(LOGIN, {"c": "9999999999", "p": "nope1234"})
    assert wrong["data"]["login"]["errors"] == unknown["data"]["login"]["errors"]


async def test_cookie_login_sets_httponly_cookie_and_needs_client_header(
    api: Api, factory: Factory
) -> None:
    # AUTH-1: the web gets an HttpOnly SameSite=Lax cookie, never the token in the body.
    patron = await factory.patron("yomu2468")
    response = await api.post(
        'mutation { login(cardNumber: "%s", password: "yomu2468") { accessToken errors { code } } }'
        % patron.card_number,
        cookies=True,
    )
    assert response.json()["data"]["login"]["accessToken"] is None
    cookie = response.headers["set-cookie"]
    assert "hondana_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = await api.post("{ me { cardNumber } }", cookies=True)
    assert me.json()["data"]["me"]["cardNumber"] == patron.card_number
    # The same cookie without the X-Hondana-Client header is refused (CSRF).
    bare = await api.http.post("/graphql", json={"query": "{ me { cardNumber } }"})
    assert bare.status_code == 403
    assert codes(bare.json()) == ["CSRF_REQUIRED"]


async def test_temporary_password_can_only_change_password(api: Api, factory: Factory) -> None:
    # AUTH-5: a temporary-password session sees `mustChangePassword` and nothing personal.
    patron = await factory.patron("kari2468", state=PasswordState.TEMPORARY)
    body = await api.gql(LOGIN, {"c": patron.card_number, "p": "kari2468"})
    assert body["data"]["login"]["mustChangePassword"] is True
    token = body["data"]["login"]["accessToken"]
    denied = await api.gql(MY_LOANS, token=token)
    assert denied["data"] is None
    assert codes(denied) == ["TEMPORARY_PASSWORD"]
    assert denied["errors"][0]["extensions"]["rule"] == "AUTH-5"
    personal = await api.gql("{ me { name email1 } }", token=token)
    assert codes(personal) == ["TEMPORARY_PASSWORD"]
    changed = await api.gql(CHANGE, {"old": "kari2468", "new": "yomu1357"}, token=token)
    payload = changed["data"]["changePassword"]
    assert payload["errors"] == []
    assert payload["patron"]["passwordState"] == "ACTIVE"
    ok = await api.gql(MY_LOANS, token=payload["accessToken"])
    assert ok["data"] == {"myLoans": []}


async def test_change_password_rules_and_other_sessions_end(api: Api, factory: Factory) -> None:
    # AUTH-7: needs the current password; the new one works at once; other sessions end.
    # AUTH-6: the new password is checked, with the reason.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    other = await api.login(patron.card_number, "yomu2468")
    wrong = await api.gql(CHANGE, {"old": "nope1234", "new": "yomu1357"}, token=token)
    assert [e["code"] for e in wrong["data"]["changePassword"]["errors"]] == [
        "WRONG_CURRENT_PASSWORD"
    ]
    for new, reason in (
        ("abc", "TOO_SHORT"),
        ("abcdefgh123", "TOO_LONG"),
        ("ｙｏｍｕ２４６８", "INVALID_CHARACTERS"),
        ("yomu 2468", "INVALID_CHARACTERS"),
        (patron.card_number, "CARD_NUMBER"),
        ("19900517", "BIRTH_DATE"),
        ("123456", "SEQUENCE"),
        ("yomu2468", "SAME_AS_CURRENT"),
    ):
        bad = await api.gql(CHANGE, {"old": "yomu2468", "new": new}, token=token)
        [error] = bad["data"]["changePassword"]["errors"]
        assert (error["code"], error["reason"], error["field"], error["rule"]) == (
            "INVALID_PASSWORD",
            reason,
            "newPassword",
            "AUTH-6",
        ), new
    good = await api.gql(CHANGE, {"old": "yomu2468", "new": "yomu1357"}, token=token)
    new_token = good["data"]["changePassword"]["accessToken"]
    assert new_token and good["data"]["changePassword"]["errors"] == []
    # Ended sessions are deleted, so their tokens are simply unknown now.
    assert codes(await api.gql("{ me { name } }", token=other)) == ["UNAUTHENTICATED"]
    assert codes(await api.gql("{ me { name } }", token=token)) == ["UNAUTHENTICATED"]
    assert (await api.gql("{ me { name } }", token=new_token))["data"]["me"]
    assert await api.login(patron.card_number, "yomu1357")
    old = await api.gql(LOGIN, {"c": patron.card_number, "p": "yomu2468"})
    assert old["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_idle_session_is_logged_off(api: Api, factory: Factory, clock: FixedClock) -> None:
    # AUTH-10: 15 minutes without a request ends the session; a request keeps it alive.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    clock.advance(timedelta(minutes=14))
    assert (await api.gql("{ me { name } }", token=token))["data"]["me"]
    clock.advance(timedelta(minutes=14))  # 28 min after login, 14 after the last request
    assert (await api.gql("{ me { name } }", token=token))["data"]["me"]
    clock.advance(timedelta(minutes=15))
    expired = await api.gql("{ me { name } }", token=token)
    assert codes(expired) == ["SESSION_EXPIRED"]
    assert expired["errors"][0]["extensions"]["rule"] == "AUTH-10"
    assert await _count(api, Session) == 0


async def test_session_has_an_absolute_limit(api: Api, factory: Factory, clock: FixedClock) -> None:
    # AUTH-10: even a busy session ends after 12 hours.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    for _ in range(12 * 6):
        clock.advance(timedelta(minutes=10))
        body = await api.gql("{ me { name } }", token=token)
    assert codes(body) == ["SESSION_EXPIRED"]


async def test_logout_ends_the_session(api: Api, factory: Factory) -> None:
    # AUTH-10: logout ends the session at once.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    out = await api.gql("mutation { logout { ok } }", token=token)
    assert out["data"]["logout"]["ok"] is True
    assert codes(await api.gql("{ me { name } }", token=token)) == ["UNAUTHENTICATED"]


async def test_repeated_failures_lock_the_card(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # AUTH-11: 5 failures in 15 minutes lock the card for 15 minutes, even with the right
    # password, and the answer says so without revealing whether the card exists.
    patron = await factory.patron("yomu2468")
    for attempt in range(5):
        body = await api.gql(LOGIN, {"c": patron.card_number, "p": f"wrong{attempt}x"})
    [locked] = body["data"]["login"]["errors"]
    assert locked["code"] == "ACCOUNT_LOCKED" and locked["rule"] == "AUTH-11"
    assert locked["retryAfter"] == 15 * 60
    right = await api.gql(LOGIN, {"c": patron.card_number, "p": "yomu2468"})
    assert right["data"]["login"]["errors"][0]["code"] == "ACCOUNT_LOCKED"
    # An unknown card locks the same way (no enumeration).
    for attempt in range(5):
        ghost = await api.gql(LOGIN, {"c": "8888888888", "p": f"wrong{attempt}x"})
    assert ghost["data"]["login"]["errors"][0]["code"] == "ACCOUNT_LOCKED"
    clock.advance(timedelta(minutes=15, seconds=1))
    assert await api.login(patron.card_number, "yomu2468")
    async with api.app.state.services.sessions() as db:
        assert await db.get(LoginThrottleRow, f"patron:{patron.card_number}") is None


async def test_lockout_sends_retry_after(api: Api, factory: Factory) -> None:
    # AUTH-11: the locked answer also carries the wait as an HTTP Retry-After header.
    patron = await factory.patron("yomu2468")
    for attempt in range(4):
        await api.gql(LOGIN, {"c": patron.card_number, "p": f"wrong{attempt}x"})
    response = await api.post(LOGIN, {"c": patron.card_number, "p": "wrong9x"})
    [locked] = response.json()["data"]["login"]["errors"]
    assert locked["code"] == "ACCOUNT_LOCKED"
    assert response.headers["retry-after"] == str(locked["retryAfter"]) == str(15 * 60)
    again = await api.post(LOGIN, {"c": patron.card_number, "p": "yomu2468"})
    assert again.headers["retry-after"] == str(15 * 60)


async def test_one_address_guessing_across_many_cards_is_throttled(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # AUTH-11: failures are also counted per client address, at ten times a card's limit,
    # so one client cannot try a password or two on every card (credential stuffing).
    patron = await factory.patron("yomu2468")
    for n in range(50):  # 4 failures on each of 12.5 cards: no card locks
        card = f"77700000{n // 4:02d}"
        body = await api.gql(LOGIN, {"c": card, "p": f"guess{n}x"})
        assert body["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS", n
    response = await api.post(LOGIN, {"c": patron.card_number, "p": "yomu2468"})
    [limited] = response.json()["data"]["login"]["errors"]
    assert limited["code"] == "RATE_LIMITED"
    assert limited["retryAfter"] == 15 * 60
    assert response.headers["retry-after"] == str(15 * 60)
    # The card itself was never locked: the address was.
    async with api.app.state.services.sessions() as db:
        assert await db.get(LoginThrottleRow, f"patron:{patron.card_number}") is None
        assert await db.get(LoginThrottleRow, "login-ip:127.0.0.1") is not None
    clock.advance(timedelta(minutes=15, seconds=1))
    assert await api.login(patron.card_number, "yomu2468")


async def test_failures_spread_over_time_do_not_lock(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # AUTH-11: the count is per window; old failures fall out of it.
    patron = await factory.patron("yomu2468")
    for attempt in range(8):
        body = await api.gql(LOGIN, {"c": patron.card_number, "p": f"wrong{attempt}x"})
        assert body["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
        clock.advance(timedelta(minutes=4))
    assert await api.login(patron.card_number, "yomu2468")


@pytest.mark.production_argon2
async def test_old_hash_is_upgraded_on_login(api: Api, factory: Factory) -> None:
    # AUTH-1: argon2id parameters are raised over time; a login rehashes an older hash.
    import argon2

    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("yomu2468")
    patron = await factory.patron(None, state=PasswordState.ACTIVE, password_hash=weak)
    assert await api.login(patron.card_number, "yomu2468")
    async with api.app.state.services.sessions() as db:
        row = await db.get(Patron, patron.id)
    assert row is not None
    stored = row.password_hash
    assert stored is not None
    assert stored != weak
    assert stored.startswith("$argon2id$") and "m=19456" in stored


async def test_staff_login_is_separate(api: Api, factory: Factory) -> None:
    # STAFF-1 / AUTH-1: staff accounts are not patron logins and vice versa.
    await factory.staff("desk", "staffpass1")
    token = await api.staff_login("desk", "staffpass1")
    me = await api.gql("{ staffMe { username roles } }", token=token)
    assert me["data"]["staffMe"] == {"username": "desk", "roles": ["COUNTER"]}
    as_patron = await api.gql(LOGIN, {"c": "desk", "p": "staffpass1"})
    assert as_patron["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert codes(await api.gql("{ me { name } }", token=token)) == ["FORBIDDEN"]
