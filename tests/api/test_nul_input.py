"""A NUL character (U+0000) in any string input: PostgreSQL ``text`` cannot hold one, so
before these checks a NUL reaching a query failed inside asyncpg as ``INTERNAL_ERROR``
(found by the fuzz, tests/api/test_fuzz.py). Now every database answers alike: a lookup by
a key with a NUL is a miss, like any unknown key; stored text refuses it with
``INVALID_INPUT``; search treats it as a word break (SEARCH-6). See policies/text.py."""

from __future__ import annotations

from typing import Any

import pytest

from policies.enums import StaffRole
from schema.shared import ids
from tests.support import Api, Factory

NUL = "a\\u0000b"  # as written inside a GraphQL string literal
LIB, REC = "@library", "@record"
# (viewer, document, where the answer's code is, the code); "" means no error at all.
CASES = [
    # SEARCH-6: odd input is text, never an error.
    ("anonymous", f'{{ search(query: "{NUL}") {{ totalCount }} }}', "top", ""),
    ("anonymous", f'{{ search(query: "本{NUL}") {{ totalCount }} }}', "top", ""),
    ("anonymous", f'{{ search(fields: {{title: "{NUL}"}}) {{ totalCount }} }}', "top", ""),
    # AUTH-1/AUTH-11: no such card or user, the same answer as any wrong login.
    (
        "anonymous",
        f'mutation {{ login(cardNumber: "{NUL}", password: "x") {{ errors {{ code }} }} }}',
        "login",
        "INVALID_CREDENTIALS",
    ),
    (
        "anonymous",
        f'mutation {{ staffLogin(username: "{NUL}", password: "x") {{ errors {{ code }} }} }}',
        "staffLogin",
        "INVALID_CREDENTIALS",
    ),
    # AUTH-8: the same empty answer whether or not the pair matched.
    (
        "anonymous",
        f'mutation {{ requestPasswordReset(cardNumber: "{NUL}", email: "a@example.jp") {{ errors {{ code }} }} }}',
        "requestPasswordReset",
        "",
    ),
    (
        "anonymous",
        f'mutation {{ applyForPassword(cardNumber: "{NUL}", birthDate: "2000-01-01", email: "a@example.jp") {{ errors {{ code }} }} }}',
        "applyForPassword",
        "",
    ),
    # STAFF-1: a card number or barcode nobody has.
    ("staff", f'{{ patron(cardNumber: "{NUL}") {{ id }} }}', "top", ""),
    ("staff", f'{{ staffAuditLog(cardNumber: "{NUL}") {{ __typename }} }}', "top", ""),
    ("staff", f'{{ mailLog(cardNumber: "{NUL}") {{ __typename }} }}', "top", ""),
    (
        "staff",
        f'mutation {{ issuePassword(cardNumber: "{NUL}") {{ errors {{ code }} }} }}',
        "issuePassword",
        "NOT_FOUND",
    ),
    (
        "staff",
        f'mutation {{ invalidatePassword(cardNumber: "{NUL}") {{ errors {{ code }} }} }}',
        "invalidatePassword",
        "NOT_FOUND",
    ),
    (
        "staff",
        f'mutation {{ checkIn(barcode: "{NUL}", libraryId: "{LIB}") {{ errors {{ code }} }} }}',
        "checkIn",
        "NOT_FOUND",
    ),
    (
        "staff",
        f'mutation {{ markPulled(barcode: "{NUL}") {{ errors {{ code }} }} }}',
        "markPulled",
        "NOT_FOUND",
    ),
    (
        "staff",
        f'mutation {{ receiveTransit(barcode: "{NUL}", libraryId: "{LIB}") {{ errors {{ code }} }} }}',
        "receiveTransit",
        "NOT_FOUND",
    ),
    # MAIL-4: a classification is a short code, never control characters.
    (
        "anonymous",
        f'{{ newArrivals(since: "2026-01-01", subjectClasses: ["9{NUL}"]) {{ totalCount }} }}',
        "top",
        "INVALID_INPUT",
    ),
    # SEARCH-7 / STAFF-1: catalogue text that would be stored.
    (
        "staff",
        f'mutation {{ updateRecord(id: "{REC}", input: {{title: "題{NUL}名"}}) {{ errors {{ code }} }} }}',
        "updateRecord",
        "INVALID_INPUT",
    ),
    (
        "staff",
        f'mutation {{ updateRecord(id: "{REC}", input: {{publisher: "{NUL}"}}) {{ errors {{ code }} }} }}',
        "updateRecord",
        "INVALID_INPUT",
    ),
]


@pytest.fixture
async def tokens(api: Api, factory: Factory) -> dict[str, Any]:
    library = await factory.library("central")
    record = await factory.record("本の題名")
    await factory.staff("nulboss", "staffpass9", {StaffRole.ADMIN})
    return {
        "anonymous": None,
        "staff": await api.staff_login("nulboss", "staffpass9"),
        LIB: ids.encode("Library", library.id),
        REC: ids.encode("Record", record.id),
    }


@pytest.mark.parametrize(("viewer", "document", "where", "code"), CASES)
async def test_nul_in_string_input_answers_with_a_code(
    api: Api, tokens: dict[str, Any], viewer: str, document: str, where: str, code: str
) -> None:
    # SEC (issue [7/8]) and the rule named on each case: no INTERNAL_ERROR on either database.
    document = document.replace(LIB, tokens[LIB]).replace(REC, tokens[REC])
    body = await api.gql(document, token=tokens[viewer])
    top = [e["extensions"]["code"] for e in body.get("errors") or []]
    assert "INTERNAL_ERROR" not in top, body
    if where == "top":
        assert top == ([code] if code else []), body
    else:
        assert [e["code"] for e in body["data"][where]["errors"]] == ([code] if code else []), body
