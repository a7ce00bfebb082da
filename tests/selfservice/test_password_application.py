"""A web password application never mails an address the library does not already hold
for the card (AUTH-3): knowing a card number and a birth date takes over nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models import OutboxMessage, Patron
from policies.enums import PasswordState
from tests.support import Api, Factory

APPLY = """mutation($c: String!, $b: Date!, $e: String!) {
  applyForPassword(cardNumber: $c, birthDate: $b, email: $e) { accepted message errors { code } } }"""


async def _state(api: Api, patron_id: int) -> tuple[PasswordState, str | None, int]:
    async with api.app.state.services.sessions() as db:
        row = await db.get(Patron, patron_id)
        mails = (await db.execute(select(OutboxMessage))).scalars().all()
    assert row is not None
    return row.password_state, row.email1, len(mails)


async def test_no_address_on_file_is_a_counter_matter(api: Api, factory: Factory) -> None:
    # AUTH-3: with no address on file nothing is mailed and the typed address is not stored
    # (the staff application it becomes: tests/selfservice/test_password_staff_application.py);
    # the answer is the same as for any other application and names the counter.
    patron = await factory.patron(None, birth_date=date(2000, 6, 1))
    answer = await api.gql(
        APPLY, {"c": patron.card_number, "b": "2000-06-01", "e": "thief@example.jp"}
    )
    other = await api.gql(APPLY, {"c": "0000000000", "b": "2000-06-01", "e": "x@example.jp"})
    assert answer == other and answer["data"]["applyForPassword"]["accepted"] is True
    assert "窓口" in answer["data"]["applyForPassword"]["message"]
    assert await _state(api, patron.id) == (PasswordState.NONE, None, 0)


async def test_only_an_address_on_file_gets_the_password(api: Api, factory: Factory) -> None:
    # AUTH-3: a typed address that is not the card's own is never used nor stored.
    patron = await factory.patron(None, birth_date=date(2000, 6, 1), email1="hanako@example.jp")
    variables = {"c": patron.card_number, "b": "2000-06-01", "e": "thief@example.jp"}
    await api.gql(APPLY, variables)
    assert await _state(api, patron.id) == (PasswordState.NONE, "hanako@example.jp", 0)
    await api.gql(APPLY, {**variables, "e": "Hanako@example.jp"})
    assert await _state(api, patron.id) == (PasswordState.TEMPORARY, "hanako@example.jp", 1)
