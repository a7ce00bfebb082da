"""The outside probe's low findings (issue [R2 3/9]), each a clear refusal in the error
convention: never HTTP 500, never INTERNAL_ERROR."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from policies.clock import FixedClock
from server.settings import Settings
from server.trusted import build_manifest
from tests.support import CLIENT_HEADERS, Api, Factory, app_client, codes, production_settings

JSON = {"content-type": "application/json"}


async def test_lone_surrogate_in_variables_is_a_bad_request(api: Api) -> None:
    # SEC: "\ud800" cannot be stored or sent on as UTF-8: refused before anything runs.
    login = 'mutation($c: String!) { login(cardNumber: $c, password: "x") { errors { code } } }'
    for variables in ('{"c": "\\ud800"}', '{"c": "a\\udfffb"}'):
        body = '{"query": "%s", "variables": %s}' % (login.replace('"', '\\"'), variables)
        answer = await api.http.post("/graphql", content=body, headers=JSON)
        assert answer.status_code == 400, answer.text
        assert codes(answer.json()) == ["BAD_REQUEST"]
        assert answer.json()["errors"][0]["extensions"]["reason"] == "INVALID_UNICODE"


async def test_deep_json_is_refused_before_parsing(api: Api) -> None:
    # SEC: nesting is limited before the JSON parser recurses into it.
    for deep in (
        "[" * 20_000 + "]" * 20_000,
        '{"query": "{ libraries { code } }", "variables":'
        + '{"a":' * 5_000
        + "1"
        + "}" * 5_000
        + "}",
    ):
        answer = await api.http.post("/graphql", content=deep, headers=JSON)
        assert answer.status_code == 400, answer.text
        assert answer.json()["errors"][0]["extensions"]["reason"] == "TOO_DEEP"
    # Brackets inside strings are text, not nesting.
    text = '{"query": "{ libraries { code } }", "variables": {"x": "%s"}}' % ("[" * 5_000)
    assert (await api.http.post("/graphql", content=text, headers=JSON)).status_code == 200


@pytest.mark.parametrize("number", ["١٢", "²", "9" * 30, str(2**31), "-1"])
async def test_odd_cursors_are_invalid_input(api: Api, number: str) -> None:
    # SEC: a cursor names an ASCII-digit id within range, or it is INVALID_INPUT.
    cursor = base64.urlsafe_b64encode(f"k:{number}".encode()).decode().rstrip("=")
    for query in (
        'query($a: String) { search(query: "x", after: $a) { totalCount } }',
        'query($a: String) { newArrivals(since: "2026-01-01", after: $a) { totalCount } }',
    ):
        body = await api.gql(query, {"a": cursor})
        assert codes(body) == ["INVALID_INPUT"], body


async def test_graphql_answers_are_not_cached(api: Api, factory: Factory) -> None:
    # SEC: personal answers must not stay in a shared or browser cache.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    answer = await api.post("{ me { name } }", token=token)
    assert answer.headers["cache-control"] == "no-store"
    assert (await api.post("{ libraries { code } }")).headers["cache-control"] == "no-store"


async def test_csrf_cookie_is_matched_by_name(api: Api, factory: Factory) -> None:
    # SEC: only a cookie named hondana_session needs the client header; one whose name
    # merely contains it is someone else's and is let through.
    other = await api.http.post(
        "/graphql",
        json={"query": "{ libraries { code } }"},
        headers={"cookie": "not_hondana_session=1; x=hondana_session"},
    )
    assert other.status_code == 200, other.text
    ours = await api.http.post(
        "/graphql",
        json={"query": "{ libraries { code } }"},
        headers={"cookie": "a=1;  hondana_session=abc"},
    )
    assert ours.status_code == 403 and codes(ours.json()) == ["CSRF_REQUIRED"]
    with_header = await api.http.post(
        "/graphql",
        json={"query": "{ libraries { code } }"},
        headers={"cookie": "hondana_session=abc", **CLIENT_HEADERS},
    )
    assert with_header.status_code == 200


@pytest.fixture
async def production(settings: Settings, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    production = production_settings(settings, tmp_path)
    async with app_client(production, clock) as client:
        yield client


async def test_no_did_you_mean_in_production(production: Api) -> None:
    # SEC: production does not suggest field or value names, in variables either.
    [doc_id] = [
        i
        for i, entry in build_manifest()["documents"].items()
        if {"client": "web-opac", "operation": "SubmitApplication"} in entry["uses"]
    ]
    for bad in (
        {"kind": "CARD_RENEWL", "name": "a", "birthDate": "2000-01-01", "email": "a@b.jp"},
        {"kind": "CARD_RENEWAL", "nam": "a", "birthDate": "2000-01-01", "email": "a@b.jp"},
    ):
        answer = await production.by_id(doc_id, {"input": bad})
        body = answer.json()
        assert set(codes(body)) == {"INVALID_QUERY"}, body
        assert "Did you mean" not in answer.text, body


@pytest.mark.parametrize(
    ("first", "read_as"),
    [("NaN", "value: nan"), ("Infinity", "value: inf"), ("1e400", "value: inf"),
     (str(2**70), "non 32-bit")],
)  # fmt: skip
async def test_numbers_orjson_refuses_are_answered_as_json_reads_them(
    production: Api, first: str, read_as: str
) -> None:
    # SEC: the guard reads bodies with orjson and falls back to ``json`` where orjson
    # refuses one (NaN, infinities); a trusted document is then written back with ``json``
    # too, so the executor refuses the number ``json`` read (orjson would write null).
    [doc_id] = [
        i
        for i, entry in build_manifest()["documents"].items()
        if {"client": "web-opac", "operation": "Search"} in entry["uses"]
    ]
    variables = '{"query": "x", "sort": "RELEVANCE", "first": %s}' % first
    body = '{"documentId": "%s", "variables": %s}' % (doc_id, variables)
    answer = await production.http.post("/graphql", content=body, headers=JSON)
    assert answer.status_code == 200, answer.text
    assert codes(answer.json()) == ["INVALID_QUERY"], answer.text
    assert read_as in answer.json()["errors"][0]["message"], answer.text
