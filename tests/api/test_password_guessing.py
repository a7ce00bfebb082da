"""A stolen session cannot guess the password through updatePreferences: its
currentPassword is counted with the card's login failures (AUTH-11, PREF-2)."""

from __future__ import annotations

import pytest

from tests.api.test_login_storm import LIMIT, _count_verifications
from tests.support import Api, Factory

UPDATE = """mutation($i: PreferencesInput!) { updatePreferences(input: $i) {
  patron { email1 } errors { code field } } }"""


async def test_current_password_guesses_lock_the_card(
    api: Api, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AUTH-11: five wrong currentPasswords lock the card; the sixth guess is not verified,
    # and not even the right password changes the address while the lock holds.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    counted = _count_verifications(api, monkeypatch)
    answers = []
    for n in range(LIMIT + 3):
        change = {"email1": "thief@example.jp", "currentPassword": f"guess-{n}"}
        body = await api.gql(UPDATE, {"i": change}, token=token)
        answers.append(body["data"]["updatePreferences"]["errors"][0]["code"])
    assert len(counted) == LIMIT, answers
    assert answers[: LIMIT - 1] == ["WRONG_CURRENT_PASSWORD"] * (LIMIT - 1)
    assert set(answers[LIMIT:]) == {"ACCOUNT_LOCKED"}, answers
    right = {"email1": "thief@example.jp", "currentPassword": "yomu2468"}
    body = await api.gql(UPDATE, {"i": right}, token=token)
    assert body["data"]["updatePreferences"]["errors"][0]["code"] == "ACCOUNT_LOCKED"
    me = await api.gql("{ me { email1 } }", token=token)
    assert me["data"]["me"]["email1"] is None
    login = await api.gql(
        'mutation { login(cardNumber: "%s", password: "yomu2468") { errors { code } } }'
        % patron.card_number
    )
    assert login["data"]["login"]["errors"][0]["code"] == "ACCOUNT_LOCKED"
