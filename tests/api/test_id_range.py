"""Ids whose number no primary key can have (found by the fuzz on PostgreSQL, where such a
number bound to an INTEGER column failed inside asyncpg as ``INTERNAL_ERROR``), and ids
whose number is not ASCII digits (``int("²")`` raised): both name no row, on both
databases, so the answer is ``NOT_FOUND`` (or ``null``) as for any missing row."""

from __future__ import annotations

import base64

import pytest

from schema.shared import ids
from tests.support import Api, Factory

HUGE = ("2147483648", "999999999999999999")
NOT_ASCII = ("²", "１")


def _raw(type_name: str, tail: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{tail}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("tail", HUGE + NOT_ASCII)
def test_decode_refuses_numbers_no_row_has(tail: str) -> None:
    # SEC (issue [7/8]): a malformed id and a missing row look alike.
    assert ids.decode("Loan", _raw("Loan", tail)) is None


def test_decode_keeps_the_largest_primary_key() -> None:
    assert ids.decode("Loan", ids.encode("Loan", ids.MAX_PK)) == ids.MAX_PK


@pytest.mark.parametrize("tail", HUGE + NOT_ASCII)
async def test_out_of_range_ids_answer_not_found(api: Api, factory: Factory, tail: str) -> None:
    # LOAN-4: each loan answers for itself; an id that names no loan is NOT_FOUND.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    body = await api.gql(
        "mutation($l: [ID!]!) { renewLoans(loanIds: $l) { results { errors { code } } } }",
        {"l": [_raw("Loan", tail)]},
        token=token,
    )
    assert not body.get("errors"), body
    results = body["data"]["renewLoans"]["results"]
    assert [e["code"] for r in results for e in r["errors"]] == ["NOT_FOUND"], body
    # BASKET-4: anyone may look a title up; no such title is null.
    record = await api.gql("query($r: ID!) { record(id: $r) { id } }", {"r": _raw("Record", tail)})
    assert record == {"data": {"record": None}}, record
