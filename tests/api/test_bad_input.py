"""Bad input gets a clear code, never a 500, and writes nothing but the failed-login count."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Route

import models
from schema.root import HondanaSchema
from schema.shared.extensions import ErrorShaping
from server.graphql import HondanaGraphQL
from tests.support import Api, Factory, codes

LOGIN = (
    "mutation($c: String!, $p: String!) { login(cardNumber: $c, password: $p) { errors { code } } }"
)


async def _row_counts(api: Api) -> dict[str, int]:
    counts = {}
    async with api.app.state.services.sessions() as db:
        for table in models.Base.metadata.sorted_tables:
            if table.name != "login_throttle":
                counts[table.name] = (
                    await db.execute(select(func.count()).select_from(table))
                ).scalar_one()
    return counts


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b'{"query": "{ libraries { code } }"', "application/json", 400, "BAD_REQUEST"),
        (b"\xff\xfe not json", "application/json", 400, "BAD_REQUEST"),
        (b'[{"query": "{ libraries { code } }"}]', "application/json", 400, "BATCHING_DISABLED"),
        (b'{"variables": {}}', "application/json", 400, "BAD_REQUEST"),
        (
            b'{"query": "{ libraries { code } }", "variables": [1]}',
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        (
            b"query=%7B%20libraries%20%7D",
            "application/x-www-form-urlencoded",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (b"{ libraries { code } }", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'{"query": "' + b"a" * 200_000 + b'"}', "application/json", 413, "PAYLOAD_TOO_LARGE"),
    ],
)
async def test_malformed_requests(
    api: Api, content: bytes, content_type: str, status: int, code: str
) -> None:
    # AUTH-1 (the endpoint's contract): malformed transport gets its own code, as JSON.
    response = await api.http.post(
        "/graphql", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert codes(response.json()) == [code]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ nothingHere }", {}, "INVALID_QUERY"),
        ("{ libraries { code ", {}, "INVALID_QUERY"),
        (LOGIN, {"c": 12, "p": None}, "INVALID_QUERY"),
        ('{ record(id: "not-an-id") { title } }', {}, None),
        ('{ search(query: "x", first: 0) { totalCount } }', {}, "PAGE_SIZE_OUT_OF_RANGE"),
        ('{ search(query: "x", first: 101) { totalCount } }', {}, "PAGE_SIZE_OUT_OF_RANGE"),
        ('{ search(query: "x", after: "garbage!") { totalCount } }', {}, "INVALID_INPUT"),
        # A filter, not a lookup: naming no library, it matches nothing (test_id_convention).
        ('{ search(query: "x", filters: {libraryId: "bogus"}) { totalCount } }', {}, None),
        ("{ search(query: $q) { totalCount } }", {}, "INVALID_QUERY"),
        (
            "{ a: libraries { code } b: libraries { code } "
            + " ".join(f"c{i}: libraries {{ code }}" for i in range(25))
            + " }",
            {},
            "TOO_MANY_ALIASES",
        ),
    ],
)
async def test_bad_documents_and_arguments(
    api: Api, query: str, variables: dict[str, Any], code: str | None
) -> None:
    # AUTH-1 (the endpoint's contract): a clear code for every bad document or argument.
    body = await api.gql(query, variables)
    if code is None:
        assert "errors" not in body, body
        assert body["data"] in ({"record": None}, {"search": {"totalCount": 0}}), body
    else:
        assert code in codes(body), body


async def test_long_strings_and_bad_passwords_write_nothing(api: Api, factory: Factory) -> None:
    # AUTH-6 / AUTH-11: unknown card, wrong password, 10,000 characters, non-ASCII and
    # 11-character passwords: a clear code, no 500, and only the failed-login count changes.
    patron = await factory.patron("yomu2468")
    before = await _row_counts(api)
    cases = [
        ("0000000000", "yomu2468"),
        (patron.card_number, "wrong999"),
        ("x" * 10_000, "yomu2468"),
        (patron.card_number, "p" * 10_000),
        (patron.card_number, "パスワード123"),
        (patron.card_number, "yomu2468yom"),
        ("", ""),
    ]
    for card, password in cases:
        body = await api.gql(LOGIN, {"c": card, "p": password})
        assert [e["code"] for e in body["data"]["login"]["errors"]] in (
            ["INVALID_CREDENTIALS"],
            ["ACCOUNT_LOCKED"],
        ), (card[:20], password[:20])
    search = await api.gql(
        "query($q: String!) { search(query: $q) { totalCount } }", {"q": "漢" * 10_000}
    )
    assert codes(search) == ["INVALID_INPUT"]
    token = await api.login(
        factory_patron := (await factory.patron("yomu1357")).card_number, "yomu1357"
    )
    del factory_patron
    after_login = await _row_counts(api)
    for new in ("yomu2468yom", "ｙｏｍｕ２４６", "x" * 10_000, "🐱🐱🐱🐱🐱🐱"):
        body = await api.gql(
            'mutation($n: String!) { changePassword(currentPassword: "yomu1357", newPassword: $n) { errors { code reason } } }',
            {"n": new},
            token=token,
        )
        assert body["data"]["changePassword"]["errors"][0]["code"] == "INVALID_PASSWORD"
    assert await _row_counts(api) == after_login
    assert before["sessions"] == 0 and before["patrons"] == after_login["patrons"] - 1


async def test_unexpected_errors_are_masked_with_a_request_id(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # AUTH-1 (the endpoint's contract): a bug answers INTERNAL_ERROR with a request id; the
    # details go to the log, never to the client.
    @strawberry.type
    class Broken:
        @strawberry.field
        def boom(self) -> str:
            raise RuntimeError("secret internals: password=hunter2")

    view = HondanaGraphQL(
        HondanaSchema(query=Broken, extensions=[ErrorShaping]), api.app.state.services, ide=False
    )
    app = Starlette(routes=[Route("/graphql", view, methods=["POST"])])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://t"
    ) as http:
        with caplog.at_level(logging.ERROR, logger="hondana.graphql"):
            response = await http.post("/graphql", json={"query": "{ boom }"})
    body = response.json()
    assert response.status_code == 200
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert "requestId" in error["extensions"]
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert any("secret internals" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


async def test_every_response_carries_request_id_and_security_headers(api: Api) -> None:
    # AUTH-1 (the endpoint's contract): headers every front end can rely on.
    response = await api.post("{ libraries { code } }")
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
