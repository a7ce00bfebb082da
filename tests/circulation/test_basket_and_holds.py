"""Basket and hold placement through the API (BASKET-1..4, HOLD-1..4, HOLD-6, HOLD-7,
HOLD-10, HOLD-11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from models import Patron
from policies.enums import LibraryKind, MaterialType, PasswordState
from tests.circulation.ops import (
    ADD,
    BASKET,
    CANCEL,
    MOVE,
    PAUSE,
    PREVIEW,
    basket_add,
    gid,
    hold_for,
    my_holds,
    place,
)
from tests.support import Api, Factory, codes


@pytest.fixture
async def lib(factory: Factory):
    return await factory.library("CEN")


async def _patron_token(api: Api, factory: Factory, **kw: Any) -> tuple[Patron, str]:
    patron = await factory.patron("yomu2468", **kw)
    return patron, await api.login(patron.card_number, "yomu2468")


async def test_basket_holds_100_titles_each_once(api: Api, factory: Factory, lib: object) -> None:
    # BASKET-1: up to 100 titles; the 101st is BASKET_FULL; a title is in the basket once.
    _, token = await _patron_token(api, factory)
    records = [await factory.record(f"本 {i}") for i in range(101)]
    first = await basket_add(api, token, records[0].id)
    assert await basket_add(api, token, records[0].id) == first  # once: same entry back
    for rec in records[1:100]:
        await basket_add(api, token, rec.id)
    full = await api.gql(ADD, {"r": gid("Record", records[100].id)}, token=token)
    assert full["data"]["addToBasket"]["errors"] == [{"code": "BASKET_FULL", "rule": "BASKET-1"}]
    assert len((await api.gql(BASKET, token=token))["data"]["myBasket"]) == 100


async def test_ebooks_cannot_go_in_the_basket(api: Api, factory: Factory) -> None:
    # BASKET-3: e-books are refused with EBOOK_NOT_ALLOWED.
    _, token = await _patron_token(api, factory)
    ebook = await factory.record("電子の本", material_type=MaterialType.EBOOK)
    body = await api.gql(ADD, {"r": gid("Record", ebook.id)}, token=token)
    assert body["data"]["addToBasket"]["errors"] == [
        {"code": "EBOOK_NOT_ALLOWED", "rule": "BASKET-3"}
    ]


async def test_search_is_open_but_basket_needs_login(
    api: Api, factory: Factory, lib: object
) -> None:
    # BASKET-4: anyone can search; the basket needs a login (and an active password, AUTH-5).
    rec = await factory.record("だれでも検索")
    assert (await api.gql('{ search(query: "だれでも") { totalCount } }'))["data"]["search"][
        "totalCount"
    ] == 1
    assert codes(await api.gql(ADD, {"r": gid("Record", rec.id)})) == ["UNAUTHENTICATED"]
    assert codes(await api.gql(BASKET)) == ["UNAUTHENTICATED"]
    _, temp = await _patron_token(api, factory, state=PasswordState.TEMPORARY)
    assert codes(await api.gql(BASKET, token=temp)) == ["TEMPORARY_PASSWORD"]


async def test_preview_checks_and_changes_nothing_then_place(
    api: Api, factory: Factory, lib
) -> None:
    # BASKET-2: preview (予約内容確認) checks each title and changes nothing; placement
    # (予約結果) answers per title and placed titles leave the basket.
    _, token = await _patron_token(api, factory, default_pickup_library_id=lib.id)
    good = await factory.record("予約できる本")
    await factory.copy(good, lib)
    ref = await factory.record("禁帯出の本")
    await factory.copy(ref, lib, reference_only=True)
    entries = [await basket_add(api, token, good.id), await basket_add(api, token, ref.id)]
    preview = (await api.gql(PREVIEW, {"e": entries}, token=token))["data"]["previewHolds"]
    assert preview["pickupLibrary"] == {"code": "CEN"}
    assert [r["ok"] for r in preview["results"]] == [True, False]
    assert preview["results"][1]["errors"] == [{"code": "NOT_HOLDABLE", "rule": "HOLD-1"}]
    assert preview["results"][0]["hold"] is None
    assert await my_holds(api, token) == []
    placed = await place(api, token, entries)
    assert [r["ok"] for r in placed["results"]] == [True, False]
    assert placed["results"][0]["hold"]["state"] == "WAITING"
    basket = (await api.gql(BASKET, token=token))["data"]["myBasket"]
    assert [b["record"]["title"] for b in basket] == ["禁帯出の本"]


async def test_what_cannot_be_held(api: Api, factory: Factory, lib) -> None:
    # HOLD-1: reference-only copies and art reproductions don't count.
    # HOLD-11: titles borrowed from outside the city are not holdable on the web.
    _, token = await _patron_token(api, factory)
    art = await factory.record("複製画", material_type=MaterialType.ART_REPRODUCTION)
    await factory.copy(art, lib)
    borrowed = await factory.record("他市の本")
    await factory.copy(borrowed, lib, from_other_city=True)
    no_copy = await factory.record("所蔵なし")
    entries = [await basket_add(api, token, r.id) for r in (art, borrowed, no_copy)]
    placed = await place(api, token, entries, lib.id)
    assert [r["errors"] for r in placed["results"]] == [
        [{"code": "NOT_HOLDABLE", "rule": "HOLD-1"}],
        [{"code": "NOT_HOLDABLE", "rule": "HOLD-11"}],
        [{"code": "NOT_HOLDABLE", "rule": "HOLD-1"}],
    ]


@pytest.mark.parametrize(
    ("material", "limit"),
    [
        (MaterialType.BOOK, 20),
        (MaterialType.MAGAZINE, 20),
        (MaterialType.CD, 8),
        (MaterialType.CASSETTE, 8),
        (MaterialType.VIDEO, 4),
    ],
)
async def test_hold_limits_per_category(
    api: Api, factory: Factory, lib, material: MaterialType, limit: int
) -> None:
    # HOLD-2: books and magazines 20, CDs and cassettes 8, videos 4, each counted alone.
    _, token = await _patron_token(api, factory)
    records = [await factory.record(f"資料 {i}", material_type=material) for i in range(limit + 1)]
    for rec in records:
        await factory.copy(rec, lib)
    other = await factory.record(
        "別の分類",
        material_type=MaterialType.VIDEO
        if material is not MaterialType.VIDEO
        else MaterialType.BOOK,
    )
    await factory.copy(other, lib)
    entries = [await basket_add(api, token, r.id) for r in [*records, other]]
    placed = await place(api, token, entries, lib.id)
    oks = [r["ok"] for r in placed["results"]]
    assert oks == [True] * limit + [False, True]
    assert placed["results"][limit]["errors"] == [{"code": "HOLD_LIMIT", "rule": "HOLD-2"}]


@pytest.fixture
def one_video(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library sets its video hold limit to 1 the way an operator does: in the environment
    the settings (and so the app) are built from."""
    monkeypatch.setenv("HONDANA_POLICY__HOLD_LIMITS__VIDEOS", "1")


# ``one_video`` comes first: it sets the environment before ``api`` builds the settings.
async def test_hold_limits_come_from_configuration(
    one_video: None, api: Api, factory: Factory, lib
) -> None:
    # HOLD-2: the limits are policy configuration, not code.
    assert api.app.state.services.policy.circulation.hold_limits.videos == 1
    _, token = await _patron_token(api, factory)
    vids = [await factory.record(f"映像 {i}", material_type=MaterialType.VIDEO) for i in range(2)]
    for v in vids:
        await factory.copy(v, lib)
    placed = await place(api, token, [await basket_add(api, token, v.id) for v in vids], lib.id)
    assert [r["ok"] for r in placed["results"]] == [True, False]


async def test_no_double_holds_and_no_hold_on_own_loan(api: Api, factory: Factory, lib) -> None:
    # HOLD-4: ALREADY_HELD for a title held already, ALREADY_ON_LOAN for one on loan.
    patron, token = await _patron_token(api, factory)
    held = await factory.record("予約済み")
    await factory.copy(held, lib)
    await hold_for(api, token, held.id, lib.id)
    lent = await factory.record("借りている本")
    await factory.loan(patron, await factory.copy(lent, lib), due_in_days=5)
    entries = [await basket_add(api, token, held.id), await basket_add(api, token, lent.id)]
    placed = await place(api, token, entries, lib.id)
    assert [r["errors"] for r in placed["results"]] == [
        [{"code": "ALREADY_HELD", "rule": "HOLD-4"}],
        [{"code": "ALREADY_ON_LOAN", "rule": "HOLD-4"}],
    ]


async def test_card_and_overdue_blocks_refuse_holds(api: Api, factory: Factory, lib) -> None:
    # HOLD-3 / CARD-1 / CARD-2: an expired card or an overdue loan refuses holds at the top level.
    rec = await factory.record("本")
    await factory.copy(rec, lib)
    _, expired = await _patron_token(api, factory, expires_in_days=-1)
    overdue_patron, overdue = await _patron_token(api, factory)
    await factory.loan(
        overdue_patron, await factory.copy(await factory.record("延滞"), lib), due_in_days=-1
    )
    for token, code in ((expired, "CARD_EXPIRED"), (overdue, "OVERDUE_BLOCK")):
        entry = await basket_add(api, token, rec.id)
        body = await api.gql(PREVIEW, {"e": [entry]}, token=token)
        assert codes(body) == [code]
        body = await api.gql(
            PREVIEW.replace("query", "mutation").replace("previewHolds", "placeHolds"),
            {"e": [entry]},
            token=token,
        )
        assert codes(body) == [code]
    assert await my_holds(api, expired) == []


async def test_queue_positions_and_hold_list(api: Api, factory: Factory, lib, clock) -> None:
    # HOLD-7: first come, first served; the patron sees position and queue length.
    # HOLD-10: the hold list shows title, pickup library, state, position and deadline.
    rec = await factory.record("人気の本")
    await factory.copy(
        rec, lib, status=__import__("policies.enums", fromlist=["CopyStatus"]).CopyStatus.ON_LOAN
    )
    tokens = []
    for _ in range(3):
        _, token = await _patron_token(api, factory)
        await hold_for(api, token, rec.id, lib.id)
        clock.advance(timedelta(seconds=1))
        tokens.append(token)
    views = [(await my_holds(api, t))[0] for t in tokens]
    assert [(v["queuePosition"], v["queueLength"]) for v in views] == [(1, 3), (2, 3), (3, 3)]
    assert views[0]["record"]["title"] == "人気の本"
    assert views[0]["pickupLibrary"] == {"code": "CEN"}
    assert views[0]["state"] == "WAITING" and views[0]["pickupDeadline"] is None
    cancelled = await api.gql(CANCEL, {"h": views[0]["id"]}, token=tokens[0])
    assert cancelled["data"]["cancelHold"]["hold"]["state"] == "CANCELLED"
    after = [(await my_holds(api, t))[0] for t in tokens[1:]]
    assert [(v["queuePosition"], v["queueLength"]) for v in after] == [(1, 2), (2, 2)]


async def test_only_waiting_holds_can_change_and_others_are_not_found(
    api: Api, factory: Factory, lib
) -> None:
    # HOLD-6: a WAITING hold can be moved, paused or cancelled; another patron's hold is NOT_FOUND.
    branch = await factory.library("KIT", LibraryKind.BRANCH)
    closed = await factory.library("BKM", LibraryKind.BOOKMOBILE, takes_holds=False)
    rec = await factory.record("本")
    await factory.copy(rec, lib)
    _, token = await _patron_token(api, factory)
    _, other = await _patron_token(api, factory)
    hold = await hold_for(api, token, rec.id, lib.id)
    moved = await api.gql(MOVE, {"h": hold, "p": gid("Library", branch.id)}, token=token)
    assert moved["data"]["changeHoldPickup"]["hold"]["pickupLibrary"] == {"code": "KIT"}
    bad = await api.gql(MOVE, {"h": hold, "p": gid("Library", closed.id)}, token=token)
    assert bad["data"]["changeHoldPickup"]["errors"][0]["code"] == "INVALID_PICKUP_LIBRARY"
    for query, variables in (
        (CANCEL, {"h": hold}),
        (MOVE, {"h": hold, "p": gid("Library", lib.id)}),
    ):
        stolen = await api.gql(query, variables, token=other)
        assert [e["code"] for e in next(iter(stolen["data"].values()))["errors"]] == ["NOT_FOUND"]
    today = factory.today()
    paused = await api.gql(
        PAUSE, {"h": hold, "u": (today + timedelta(days=10)).isoformat()}, token=token
    )
    assert (
        paused["data"]["pauseHold"]["hold"]["pausedUntil"]
        == (today + timedelta(days=10)).isoformat()
    )
    too_far = await api.gql(
        PAUSE, {"h": hold, "u": (today + timedelta(days=400)).isoformat()}, token=token
    )
    assert too_far["data"]["pauseHold"]["errors"][0]["code"] == "INVALID_INPUT"
    # Once the hold is on its way it can no longer be changed by the patron.
    from sqlalchemy import update

    from models import Hold
    from policies.enums import HoldState

    async with api.app.state.services.sessions() as db, db.begin():
        await db.execute(update(Hold).values(state=HoldState.IN_TRANSIT))
    refused = await api.gql(CANCEL, {"h": hold}, token=token)
    assert refused["data"]["cancelHold"]["errors"] == [
        {"code": "HOLD_NOT_MODIFIABLE", "rule": "HOLD-6"}
    ]


async def test_batch_input_is_checked_before_anything_changes(
    api: Api, factory: Factory, lib
) -> None:
    # BASKET-2: unknown and foreign ids are NOT_FOUND per item; duplicates, over-long
    # batches and a pickup library that takes no holds refuse the whole request.
    _, token = await _patron_token(api, factory)
    _, other = await _patron_token(api, factory)
    bookmobile = await factory.library("BKM", LibraryKind.BOOKMOBILE, takes_holds=False)
    rec = await factory.record("本")
    await factory.copy(rec, lib)
    mine = await basket_add(api, token, rec.id)
    theirs = await basket_add(api, other, rec.id)
    placed = await place(api, token, [mine, theirs, "garbage"], lib.id)
    assert [r["ok"] for r in placed["results"]] == [True, False, False]
    assert placed["results"][1]["errors"][0]["code"] == "NOT_FOUND"
    assert placed["results"][2]["basketEntryId"] == "garbage"
    entry = await basket_add(api, other, (await factory.record("二冊目")).id)
    for entries, pickup, code in (
        ([entry, entry], lib.id, "DUPLICATE_ID"),
        ([entry] * 101, lib.id, "TOO_MANY_ITEMS"),
        ([entry], bookmobile.id, "INVALID_PICKUP_LIBRARY"),
    ):
        payload = await place(api, other, entries, pickup)
        assert [e["code"] for e in payload["errors"]] == [code]
        assert payload["results"] == []
    assert await my_holds(api, other) == []
