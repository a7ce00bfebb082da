"""One convention for a bad id (docs/architecture.md, "The error convention"): an id that
does not decode, names another kind of object, or names no row gets the same answer — the
same error code in the same place (the top-level `errors` for a query, the payload's
`errors` for a mutation) — so a client handles one case, and an outsider cannot tell a
malformed id from a missing row. Every root field's id arguments are swept; an id argument
whose kind this test does not know fails it until someone says what it names."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLNonNull, get_named_type

from policies.enums import StaffRole
from schema.shared import ids
from tests.api.test_idor_sweep import PATRON, PUBLIC, _document, _dummy, _roots
from tests.support import Api, Factory

# What each id argument names: "field.argument" first, then the argument alone.
KINDS = {
    "recordId": "Record",
    "recordIds": "Record",
    "id": "Record",
    "libraryId": "Library",
    "pickupLibraryId": "Library",
    "filters.libraryId": "Library",
    "input.defaultPickupLibraryId": "Library",
    "basketEntryIds": "BasketEntry",
    "holdId": "Hold",
    "loanId": "Loan",
    "loanIds": "Loan",
    "bookshelfId": "Bookshelf",
    "toBookshelfId": "Bookshelf",
    "entryIds": "BookshelfEntry",
    "applicationId": "Application",
    "returnEbook.loanId": "EbookLoan",
    "ebookReadingLink.loanId": "EbookLoan",
    "cancelEbookHold.holdId": "EbookHold",
}
# Filters, not lookups: an id that names nothing matches nothing, with no error.
FILTERS = {"search": "filters.libraryId"}
# A nullable lookup answers null for an id that names nothing, with no error.
LOOKUPS = {"record": "id"}
# Arguments that must be right for the id to be looked at at all.
GIVEN: dict[str, dict[str, Any]] = {
    "checkOut": {"cardNumber": "2000000001"},
    "setCalendarDay": {"open": None},
}
BAD_IDS = {
    "malformed": lambda kind: "zzz",
    "another kind": lambda kind: ids.encode("Nothing", 1),
}


def _id_arguments() -> list[tuple[str, str, Any, str]]:
    """(query or mutation, field, the field's GraphQL field, argument path) for every id."""
    found = []
    for kind, name, field in _roots():
        for arg_name, arg in field.args.items():
            named = get_named_type(arg.type)
            if named.name == "ID":
                found.append((kind, name, field, arg_name))
            elif isinstance(named, GraphQLInputObjectType):
                found.extend(
                    (kind, name, field, f"{arg_name}.{inner}")
                    for inner, f in named.fields.items()
                    if get_named_type(f.type).name == "ID"
                )
    return found


def _kind(name: str, path: str) -> str:
    kind = KINDS.get(f"{name}.{path}", KINDS.get(path))
    assert kind is not None, f"{name}({path}:) takes an id this test does not know"
    return kind


def _variables(name: str, field: Any, path: str, value: str) -> dict[str, Any]:
    """Dummy values for the required arguments, ``value`` at ``path``."""
    variables = {
        a: _dummy(arg.type) for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)
    } | GIVEN.get(name, {})
    top, _, inner = path.partition(".")
    arg_type = field.args[top].type
    named = get_named_type(arg_type)
    inner_type = named.fields[inner].type if isinstance(named, GraphQLInputObjectType) else None
    listed = "[" in str(inner_type if inner else arg_type)
    given = [value] if listed else value
    if inner:
        variables[top] = {**(variables.get(top) or {}), inner: given}
    else:
        variables[top] = given
    return variables


def _answer(kind: str, name: str, body: dict[str, Any]) -> tuple[str, ...]:
    """Where the errors are and which codes: what a client branches on."""
    top = tuple(sorted(e["extensions"]["code"] for e in body.get("errors") or []))
    data = (body.get("data") or {}).get(name)
    payload: list[str] = []
    if isinstance(data, dict):
        payload += [e["code"] for e in data.get("errors") or []]
        payload += [e["code"] for r in data.get("results") or [] for e in r.get("errors") or []]
    return ("top", *top, "payload", *sorted(payload))


@pytest.fixture
async def tokens(api: Api, factory: Factory) -> dict[str, str | None]:
    await factory.patron("yomu2468", card_number="2000000001")
    await factory.staff("boss", "staffpass1", roles=set(StaffRole))
    return {
        "patron": await api.login("2000000001", "yomu2468"),
        "staff": await api.staff_login("boss", "staffpass1"),
    }


async def test_a_bad_id_is_answered_like_a_missing_row(
    api: Api, tokens: dict[str, str | None]
) -> None:
    # Every id argument: a malformed id, an id of another kind and an id naming no row give
    # one answer, and that answer says NOT_FOUND (or, for a pickup library, that the
    # library is not one that takes holds, HOLD-8).
    checked, problems = 0, list[tuple[object, ...]]()
    for kind, name, field, path in _id_arguments():
        token = None if name in PUBLIC else tokens["patron" if name in PATRON else "staff"]
        missing = ids.encode(_kind(name, path), ids.MAX_PK)
        document = _document(kind, name, field)
        expected = _answer(
            kind, name, await api.gql(document, _variables(name, field, path, missing), token=token)
        )
        if path in (FILTERS.get(name), LOOKUPS.get(name)):
            if expected != ("top", "payload"):
                problems.append((name, path, "missing", expected))
        elif not {"NOT_FOUND", "INVALID_PICKUP_LIBRARY"} & set(expected):
            problems.append((name, path, "missing", expected))
        for label, bad in BAD_IDS.items():
            body = await api.gql(
                document, _variables(name, field, path, bad(_kind(name, path))), token=token
            )
            if _answer(kind, name, body) != expected:
                problems.append((name, path, label, _answer(kind, name, body), expected))
        checked += 1
    assert not problems, "\n".join(map(str, problems))
    assert checked >= 40
