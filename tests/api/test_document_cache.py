"""Parsed and validated documents are cached per process (schema/root.py), and every
document limit still holds when the answer comes from the caches (SEC, OWASP GraphQL)."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.extensions import ValidationCache

from schema.root import DOCUMENT_CACHE_SIZE, MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from schema.shared.extensions import CachedParse
from tests.support import Api, Factory, codes

DEEP = "{ search { edges { node " + "{ x " * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1) + " } } }"
ALIASES = "{ " + " ".join(f"a{i}: libraries {{ code }}" for i in range(MAX_ALIASES + 1)) + " }"
TOKENS = "{" + " libraries { code }" * (MAX_TOKENS // 4 + 1) + "}"
GUESSES = "mutation { %s }" % " ".join(
    f'g{n}: login(cardNumber: "1", password: "guess-{n}") {{ errors {{ code }} }}' for n in range(2)
)


async def test_a_repeated_document_is_parsed_and_validated_once(api: Api, factory: Factory) -> None:
    # SEC: the second and third requests of the same text skip parsing and validation.
    await factory.library()
    # The extensions' module-level LRU caches (functools), shared by every request.
    parse: Any = CachedParse(maxsize=DOCUMENT_CACHE_SIZE).cached_parse_document
    validate: Any = ValidationCache(maxsize=DOCUMENT_CACHE_SIZE).cached_validate_document
    parsed, validated = parse.cache_info().hits, validate.cache_info().hits
    # A directive keeps it off the short way of tests/api/test_ready_queries.py (a query
    # that ran by its plan is not even looked up in these caches again).
    query = "{ libraries { code name } cacheProbe: libraries @include(if: true) { code } }"
    bodies = [await api.gql(query) for _ in range(3)]
    assert all("errors" not in body for body in bodies)
    assert bodies[0] == bodies[1] == bodies[2]
    assert parse.cache_info().hits >= parsed + 2
    assert validate.cache_info().hits >= validated + 2


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (DEEP, "QUERY_TOO_DEEP"),
        (ALIASES, "TOO_MANY_ALIASES"),
        (TOKENS, "TOO_MANY_TOKENS"),
        (GUESSES, "ONE_CREDENTIAL_ATTEMPT"),
    ],
)
async def test_limits_hold_for_a_cached_document(api: Api, document: str, code: str) -> None:
    # SEC, AUTH-11: the same refusal the first time and from the caches the second time.
    first, second = [await api.gql(document) for _ in range(2)]
    assert code in codes(first)
    assert codes(second) == codes(first)
    assert first.get("data") is None and second.get("data") is None
