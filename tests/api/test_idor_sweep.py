"""The IDOR sweep: walk every root field of the schema. Patron B calling any field that
takes an id with patron A's ids gets ``NOT_FOUND`` and no data; a patron calling any staff
field gets ``FORBIDDEN``. Fields are classified here; a new field that is not, or that
takes an id of a new kind, fails this test until someone decides what guards it."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from models import EbookTitle
from policies.enums import CopyStatus, MaterialType
from schema.root import schema
from schema.shared import ids
from tests.support import Api, Factory

# Anyone may call these (BASKET-4, AUTH-1/2, APP-1).
PUBLIC = {
    "search",
    "record",
    "libraries",
    "newArrivals",
    "login",
    "staffLogin",
    "logout",
    "requestPasswordReset",
    "applyForPassword",
    "submitApplication",
}
# A patron's own account: every id they take is looked up under the viewer.
PATRON = {
    "me",
    "myCard",
    "myBasket",
    "myHolds",
    "previewHolds",
    "myLoans",
    "myReadingHistory",
    "myBookshelves",
    "myEbookLoans",
    "myEbookHolds",
    "changePassword",
    "addToBasket",
    "removeFromBasket",
    "placeHolds",
    "cancelHold",
    "changeHoldPickup",
    "pauseHold",
    "renewLoans",
    "updatePreferences",
    "createBookshelf",
    "renameBookshelf",
    "deleteBookshelf",
    "addToBookshelf",
    "removeFromBookshelf",
    "moveBookshelfEntries",
    "borrowEbook",
    "returnEbook",
    "placeEbookHold",
    "cancelEbookHold",
    "ebookReadingLink",
}
# Ids that name public things (titles, libraries), not anybody's data.
PUBLIC_IDS = {"recordId", "recordIds", "libraryId", "pickupLibraryId"}
# Which of patron A's objects an id argument names; field-specific entries first.
OWNED = {
    "returnEbook.loanId": "ebook_loan",
    "ebookReadingLink.loanId": "ebook_loan",
    "cancelEbookHold.holdId": "ebook_hold",
    "holdId": "hold",
    "loanIds": "loan",
    "basketEntryIds": "basket_entry",
    "bookshelfId": "bookshelf",
    "toBookshelfId": "bookshelf",
    "entryIds": "shelf_entry",
}


def _roots() -> list[tuple[str, str, GraphQLField]]:
    gql = schema._schema
    return [
        (kind, name, field)
        for kind, root in (("query", gql.query_type), ("mutation", gql.mutation_type))
        if root is not None
        for name, field in root.fields.items()
    ]


def _is_id(type_: Any) -> bool:
    return get_named_type(type_).name == "ID"


def _selection(type_: Any, depth: int = 0) -> str:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        return ""
    parts = ["__typename"]
    for name, field in named.fields.items():
        if field.args and any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if name == "errors":
            parts.append("errors { code }")
        elif isinstance(inner, GraphQLObjectType):
            if depth < 1:
                parts.append(f"{name} {_selection(field.type, depth + 1)}")
        else:
            parts.append(name)
    return "{ " + " ".join(parts) + " }"


def _dummy(type_: Any) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return _dummy(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [_dummy(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            n: _dummy(f.type) for n, f in type_.fields.items() if isinstance(f.type, GraphQLNonNull)
        }
    assert isinstance(type_, GraphQLScalarType)
    return {
        "String": "x",
        "Int": 1,
        "Boolean": False,
        "Date": "2026-12-01",
        "ID": "x",
        "DateTime": "2026-12-01T10:00:00+09:00",
    }.get(type_.name, "x")


def _document(kind: str, name: str, field: GraphQLField) -> str:
    args = [(a, arg) for a, arg in field.args.items()]
    header = ", ".join(f"${a}: {arg.type}" for a, arg in args)
    call = ", ".join(f"{a}: ${a}" for a, _ in args)
    return (
        f"{kind}{f'({header})' if header else ''} "
        f"{{ {name}{f'({call})' if call else ''} {_selection(field.type)} }}"
    )


def _empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(k == "__typename" or _empty(v) for k, v in value.items())
    return value in (None, [], 0, False)


async def _patron_a_world(api: Api, factory: Factory) -> tuple[dict[str, Any], dict[str, Any]]:
    lib = await factory.library("central")
    rec, other, ebook = (
        await factory.record("甲の本"),
        await factory.record("乙の本"),
        await factory.record("電子の本", material_type=MaterialType.EBOOK),
    )
    await factory.add(EbookTitle(record_id=ebook.id, licences=1))
    await factory.copy(rec, lib)
    await factory.copy(other, lib)
    lent = await factory.copy(await factory.record("貸出中"), lib, status=CopyStatus.ON_LOAN)
    a = await factory.patron("kou2468a")
    loan = await factory.loan(a, lent, due_in_days=5)
    token = await api.login(a.card_number, "kou2468a")
    ask = lambda q, v: api.gql(q, v, token=token)  # noqa: E731
    entry = (
        await ask(
            "mutation($r: ID!) { addToBasket(recordId: $r) { entry { id } } }",
            {"r": ids.encode("Record", rec.id)},
        )
    )["data"]["addToBasket"]["entry"]["id"]
    placed = await ask(
        "mutation($e: [ID!]!, $p: ID) { placeHolds(basketEntryIds: $e, pickupLibraryId: $p)"
        " { results { hold { id } errors { code } } errors { code } } }",
        {"e": [entry], "p": ids.encode("Library", lib.id)},
    )
    assert placed["data"]["placeHolds"]["errors"] == [], placed
    hold = placed["data"]["placeHolds"]["results"][0]["hold"]["id"]
    entry = (
        await ask(
            "mutation($r: ID!) { addToBasket(recordId: $r) { entry { id } } }",
            {"r": ids.encode("Record", other.id)},
        )
    )["data"]["addToBasket"]["entry"]["id"]
    shelf = (await ask('mutation { createBookshelf(name: "甲") { bookshelf { id } } }', {}))[
        "data"
    ]["createBookshelf"]["bookshelf"]["id"]
    added = await ask(
        "mutation($s: ID!, $r: [ID!]) { addToBookshelf(bookshelfId: $s, recordIds: $r) { bookshelf { entries { id } } } }",
        {"s": shelf, "r": [ids.encode("Record", rec.id)]},
    )
    shelf_entry = added["data"]["addToBookshelf"]["bookshelf"]["entries"][0]["id"]
    borrowed = await ask(
        "mutation($r: ID!) { borrowEbook(recordId: $r) { loan { id } } }",
        {"r": ids.encode("Record", ebook.id)},
    )
    b = await factory.patron("otsu2468")  # B borrows nothing; A's e-book hold needs a queue
    held = await api.gql(
        "mutation($r: ID!) { placeEbookHold(recordId: $r) { hold { id } } }",
        {"r": ids.encode("Record", ebook.id)},
        token=await api.login(b.card_number, "otsu2468"),
    )
    owned = {
        "hold": hold,
        "loan": ids.encode("Loan", loan.id),
        "basket_entry": entry,
        "bookshelf": shelf,
        "shelf_entry": shelf_entry,
        "ebook_loan": borrowed["data"]["borrowEbook"]["loan"]["id"],
        "ebook_hold": held["data"]["placeEbookHold"]["hold"]["id"],
    }
    public = {"record": ids.encode("Record", other.id), "library": ids.encode("Library", lib.id)}
    return owned, public


async def test_every_field_is_classified() -> None:
    # STAFF-1: anything not public or the patron's own is staff, and the sweep checks it.
    for _, name, field in _roots():
        for arg in field.args:
            if _is_id(field.args[arg].type) and name in PATRON:
                assert f"{name}.{arg}" in OWNED or arg in OWNED or arg in PUBLIC_IDS, (
                    f"{name}({arg}:) takes an id of a kind this sweep does not know"
                )


async def test_patron_b_gets_not_found_for_patron_a_ids(api: Api, factory: Factory) -> None:
    # IDOR sweep (HOLD-6, LOAN-2, BASKET-1, EBOOK-*): another patron's id is NOT_FOUND.
    owned, public = await _patron_a_world(api, factory)
    b = await factory.patron("hei2468b")
    token = await api.login(b.card_number, "hei2468b")
    swept = 0
    for kind, name, field in _roots():
        if name not in PATRON:
            continue
        id_args = [a for a, arg in field.args.items() if _is_id(arg.type)]
        owned_args = [a for a in id_args if a not in PUBLIC_IDS]
        if not owned_args:
            continue
        variables: dict[str, Any] = {}
        for a, arg in field.args.items():
            if a in owned_args:
                value = owned[OWNED.get(f"{name}.{a}", OWNED.get(a, ""))]
                variables[a] = (
                    [value]
                    if isinstance(get_named_type(arg.type), GraphQLScalarType)
                    and "[" in str(arg.type)
                    else value
                )
            elif a in PUBLIC_IDS:
                value = public["library" if "ibrary" in a else "record"]
                variables[a] = [value] if "[" in str(arg.type) else value
            elif isinstance(arg.type, GraphQLNonNull):
                variables[a] = _dummy(arg.type)
        body = await api.gql(_document(kind, name, field), variables, token=token)
        top = [e["extensions"]["code"] for e in body.get("errors") or []]
        data = (body.get("data") or {}).get(name)
        payload_codes = (
            [
                e["code"]
                for e in (data.get("errors") or [])
                + [e for r in data.get("results") or [] for e in r.get("errors") or []]
            ]
            if isinstance(data, dict)
            else []
        )
        assert "NOT_FOUND" in top + payload_codes, (name, body)
        assert _empty(
            {
                k: v
                for k, v in (data or {}).items()
                if k not in ("errors", "results", "pickupLibrary")
            }
        ), (
            name,
            body,
        )
        for result in (data or {}).get("results") or []:
            assert _empty(
                {k: v for k, v in result.items() if k not in ("errors", "basketEntryId", "loanId")}
            ), (name, body)
        swept += 1
    assert swept >= 12


async def test_every_staff_field_is_forbidden_to_a_patron(api: Api, factory: Factory) -> None:
    # STAFF-1: every root field that is neither public nor the patron's own answers
    # FORBIDDEN to a patron, with no data.
    patron = await factory.patron("hei2468b")
    token = await api.login(patron.card_number, "hei2468b")
    staff_fields = [(k, n, f) for k, n, f in _roots() if n not in PUBLIC | PATRON]
    assert len(staff_fields) >= 15
    for kind, name, field in staff_fields:
        variables = {
            a: _dummy(arg.type)
            for a, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull)
        }
        for a, arg in field.args.items():
            if _is_id(arg.type) and a in variables:
                variables[a] = (
                    ids.encode("Library", 1)
                    if "[" not in str(arg.type)
                    else [ids.encode("Library", 1)]
                )
        body = await api.gql(_document(kind, name, field), variables, token=token)
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        assert codes == ["FORBIDDEN"], (name, body)
        assert not (body.get("data") or {}).get(name), (name, body)
