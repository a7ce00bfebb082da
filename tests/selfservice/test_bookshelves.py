"""Bookshelves (My本棚): up to 5 named shelves of up to 100 titles each."""

from __future__ import annotations

from typing import Any

from policies.enums import PasswordState
from tests.circulation.ops import basket_add, gid
from tests.support import Api, Factory, codes

CREATE = "mutation($n: String!) { createBookshelf(name: $n) { bookshelf { id name } errors { code field } } }"
RENAME = "mutation($s: ID!, $n: String!) { renameBookshelf(bookshelfId: $s, name: $n) { bookshelf { name } errors { code } } }"
ADD = """mutation($s: ID!, $r: [ID!], $b: [ID!]) { addToBookshelf(bookshelfId: $s, recordIds: $r, basketEntryIds: $b) {
  bookshelf { entries { id record { title } } } errors { code field } } }"""
MOVE = """mutation($e: [ID!]!, $s: ID!) { moveBookshelfEntries(entryIds: $e, toBookshelfId: $s) {
  bookshelf { name entries { record { title } } } errors { code } } }"""
REMOVE = "mutation($e: [ID!]!) { removeFromBookshelf(entryIds: $e) { removed errors { code } } }"
DELETE = "mutation($s: ID!) { deleteBookshelf(bookshelfId: $s) { removed errors { code } } }"
SHELVES = "{ myBookshelves { name entries { record { title } } } }"


async def _payload(api: Api, query: str, token: str, **variables: Any) -> dict[str, Any]:
    body = await api.gql(query, variables, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


async def test_five_shelves_with_clean_names(api: Api, factory: Factory) -> None:
    # The guide: up to 5 bookshelves; names without emoji; each name once.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    for i in range(5):
        made = await _payload(api, CREATE, token, n=f"本棚 {i + 1}")
        assert made["errors"] == []
    sixth = await _payload(api, CREATE, token, n="六つ目")
    assert sixth["errors"] == [{"code": "SHELF_LIMIT", "field": None}]
    shelf_id = (await api.gql("{ myBookshelves { id } }", token=token))["data"]["myBookshelves"][0][
        "id"
    ]
    for bad, code in (
        ("猫の本🐱", "INVALID_INPUT"),
        ("", "INVALID_INPUT"),
        ("x" * 31, "INVALID_INPUT"),
        ("bad\u0007name", "INVALID_INPUT"),
        ("本棚 2", "NAME_TAKEN"),
    ):
        renamed = await _payload(api, RENAME, token, s=shelf_id, n=bad)
        assert [e["code"] for e in renamed["errors"]] == [code], bad
    assert (await _payload(api, RENAME, token, s=shelf_id, n="  読みたい  本 "))["bookshelf"][
        "name"
    ] == "読みたい 本"
    assert len((await api.gql(SHELVES, token=token))["data"]["myBookshelves"]) == 5


async def test_hundred_titles_add_move_remove(api: Api, factory: Factory) -> None:
    # A shelf holds 100 titles; add from search results or the basket, move, remove.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    first = (await _payload(api, CREATE, token, n="読みたい"))["bookshelf"]["id"]
    second = (await _payload(api, CREATE, token, n="読んだ"))["bookshelf"]["id"]
    records = [await factory.record(f"本 {i}") for i in range(101)]
    entry = await basket_add(api, token, records[0].id)
    added = await _payload(
        api, ADD, token, s=first, r=[gid("Record", r.id) for r in records[1:100]], b=[entry]
    )
    assert added["errors"] == [] and len(added["bookshelf"]["entries"]) == 100
    again = await _payload(api, ADD, token, s=first, r=[gid("Record", records[5].id)])
    assert again["errors"] == [] and len(again["bookshelf"]["entries"]) == 100  # already there
    full = await _payload(api, ADD, token, s=first, r=[gid("Record", records[100].id)])
    assert full["errors"] == [{"code": "SHELF_FULL", "field": "shelfId"}]
    entries = [e["id"] for e in added["bookshelf"]["entries"][:3]]
    moved = await _payload(api, MOVE, token, e=entries, s=second)
    assert moved["errors"] == [] and len(moved["bookshelf"]["entries"]) == 3
    removed = await _payload(api, REMOVE, token, e=entries[:2])
    assert removed == {"removed": 2, "errors": []}
    shelves = (await api.gql(SHELVES, token=token))["data"]["myBookshelves"]
    assert [len(s["entries"]) for s in shelves] == [97, 1]


async def test_other_patrons_shelves_are_not_found(api: Api, factory: Factory) -> None:
    # The NOT_FOUND convention: another patron's shelf or entry is never revealed or touched.
    owner = await factory.patron("yomu2468")
    other = await factory.patron("yomu2468")
    t_owner = await api.login(owner.card_number, "yomu2468")
    t_other = await api.login(other.card_number, "yomu2468")
    shelf = (await _payload(api, CREATE, t_owner, n="秘密"))["bookshelf"]["id"]
    rec = await factory.record("本")
    entry = (await _payload(api, ADD, t_owner, s=shelf, r=[gid("Record", rec.id)]))["bookshelf"][
        "entries"
    ][0]["id"]
    mine = (await _payload(api, CREATE, t_other, n="私の"))["bookshelf"]["id"]
    assert (await _payload(api, ADD, t_other, s=shelf, r=[gid("Record", rec.id)]))["errors"][0][
        "code"
    ] == "NOT_FOUND"
    assert (await _payload(api, RENAME, t_other, s=shelf, n="奪う"))["errors"][0][
        "code"
    ] == "NOT_FOUND"
    assert (await _payload(api, DELETE, t_other, s=shelf))["errors"][0]["code"] == "NOT_FOUND"
    assert (await _payload(api, MOVE, t_other, e=[entry], s=mine))["errors"][0][
        "code"
    ] == "NOT_FOUND"
    assert (await _payload(api, REMOVE, t_other, e=[entry]))["removed"] == 0
    assert (await _payload(api, ADD, t_other, s=mine, r=["junk"]))["errors"][0][
        "code"
    ] == "NOT_FOUND"
    assert len((await api.gql(SHELVES, token=t_owner))["data"]["myBookshelves"][0]["entries"]) == 1
    assert (await _payload(api, DELETE, t_owner, s=shelf)) == {"removed": 1, "errors": []}
    temp = await factory.patron("kari2468", state=PasswordState.TEMPORARY)
    assert codes(await api.gql(SHELVES, token=await api.login(temp.card_number, "kari2468"))) == [
        "TEMPORARY_PASSWORD"
    ]
