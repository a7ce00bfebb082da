"""One login or password request per request: aliases cannot turn one request into a
batch of password guesses that slips past the lockout (AUTH-11, OWASP GraphQL)."""

from __future__ import annotations

from tests.support import Api, Factory, codes

GUESSES = "mutation { %s }" % " ".join(
    f'g{n}: login(cardNumber: "CARD", password: "guess-{n}") {{ errors {{ code }} }}'
    for n in range(10)
)


async def test_aliased_logins_are_refused_before_any_runs(api: Api, factory: Factory) -> None:
    # AUTH-11: ten guesses in one request: refused whole, and none of them counted.
    patron = await factory.patron("yomu2468")
    body = await api.gql(GUESSES.replace("CARD", patron.card_number))
    assert codes(body) == ["ONE_CREDENTIAL_ATTEMPT"]
    assert body["data"] is None
    assert "1回" in body["errors"][0]["message"]  # Japanese by default
    token = await api.login(patron.card_number, "yomu2468")  # not locked: nothing ran
    assert token


async def test_login_mixed_with_a_password_request_is_refused(api: Api) -> None:
    # AUTH-11: any two of login, staffLogin, changePassword, password requests.
    body = await api.gql(
        'mutation { login(cardNumber: "1", password: "x") { errors { code } } '
        'requestPasswordReset(cardNumber: "1", email: "a@example.jp") { accepted } }',
        headers={"Accept-Language": "en"},
    )
    assert codes(body) == ["ONE_CREDENTIAL_ATTEMPT"]
    assert body["errors"][0]["message"] == "One login or password request per request."


async def test_one_login_alone_is_fine(api: Api, factory: Factory) -> None:
    # AUTH-1: the normal case is untouched.
    patron = await factory.patron("yomu2468")
    body = await api.gql(
        'mutation { only: login(cardNumber: "%s", password: "yomu2468") { errors { code } } }'
        % patron.card_number
    )
    assert "errors" not in body and body["data"]["only"]["errors"] == []


async def test_logins_inside_fragments_are_counted(api: Api, factory: Factory) -> None:
    # AUTH-11: a login counts wherever it stands: named fragments, inline fragments, and a
    # fragment spread twice, each spread counted.
    patron = await factory.patron("yomu2468")
    login = f'login(cardNumber: "{patron.card_number}", password: "guess") {{ errors {{ code }} }}'
    documents = [
        f"mutation {{ ...A }} fragment A on Mutation {{ a: {login} b: {login} }}",
        f"mutation {{ ... on Mutation {{ a: {login} }} b: {login} }}",
        f"mutation {{ ...A ...B }} fragment A on Mutation {{ a: {login} }}"
        f" fragment B on Mutation {{ ...A }}",
    ]
    for document in documents:
        body = await api.gql(document)
        assert codes(body) == ["ONE_CREDENTIAL_ATTEMPT"], (document, body)
        assert body["data"] is None
    assert await api.login(patron.card_number, "yomu2468")  # none of them ran
