"""An anonymous reset request locks nobody out (AUTH-8): whoever knows a card number and
its address can ask for a temporary password, but the current password and sessions keep
working until the temporary one is used, and a login with the current one cancels it."""

from __future__ import annotations

from sqlalchemy import select

from models import OutboxMessage
from tests.support import Api, Factory, codes

RESET = """mutation($c: String!, $e: String!) { requestPasswordReset(cardNumber: $c, email: $e) {
  accepted } }"""
LOGIN = """mutation($c: String!, $p: String!) { login(cardNumber: $c, password: $p, delivery: BEARER) {
  accessToken mustChangePassword errors { code } } }"""


async def _temporary(api: Api) -> str:
    async with api.app.state.services.sessions() as db:
        mails = (await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return str(list(mails)[-1].payload["temporary_password"])


async def _login(api: Api, card: str, password: str) -> dict[str, object]:
    body = await api.gql(LOGIN, {"c": card, "p": password})
    result: dict[str, object] = body["data"]["login"]
    return result


async def test_the_temporary_password_takes_over_only_when_used(api: Api, factory: Factory) -> None:
    # AUTH-8 / AUTH-5: the reset waits; its first use ends the old password and sessions.
    patron = await factory.patron("yomu2468", email1="hanako@example.jp")
    session = await api.login(patron.card_number, "yomu2468")
    await api.gql(RESET, {"c": patron.card_number, "e": "hanako@example.jp"})
    temporary = await _temporary(api)
    assert codes(await api.gql("{ me { name } }", token=session)) == []  # still logged in
    used = await _login(api, patron.card_number, temporary)
    assert used["accessToken"] and used["mustChangePassword"] is True
    assert codes(await api.gql("{ me { name } }", token=session)) == ["UNAUTHENTICATED"]
    old = await _login(api, patron.card_number, "yomu2468")
    assert old["accessToken"] is None and old["errors"] == [{"code": "INVALID_CREDENTIALS"}]


async def test_a_login_with_the_current_password_cancels_the_reset(
    api: Api, factory: Factory
) -> None:
    # AUTH-8: the patron who still knows the password keeps it; the mailed one is void.
    patron = await factory.patron("yomu2468", email1="hanako@example.jp")
    await api.gql(RESET, {"c": patron.card_number, "e": "hanako@example.jp"})
    temporary = await _temporary(api)
    kept = await _login(api, patron.card_number, "yomu2468")
    assert kept["accessToken"] and kept["mustChangePassword"] is False
    void = await _login(api, patron.card_number, temporary)
    assert void["accessToken"] is None and void["errors"] == [{"code": "INVALID_CREDENTIALS"}]
