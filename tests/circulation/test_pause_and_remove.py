"""Pausing a waiting hold (Koha/Evergreen "suspend") and removing basket entries
(HOLD-6, HOLD-7, BASKET-1)."""

from __future__ import annotations

from datetime import timedelta

from policies.clock import FixedClock
from policies.enums import CopyStatus, StaffRole
from tests.circulation.ops import BASKET, CHECK_IN, PAUSE, basket_add, gid, hold_for, my_holds
from tests.support import Api, Factory

REMOVE = (
    """mutation($e: [ID!]!) { removeFromBasket(basketEntryIds: $e) { removed errors { code } } }"""
)


async def test_paused_hold_keeps_its_place_but_is_skipped(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # HOLD-7: a paused hold keeps its queue position; a returned copy goes to the next one.
    central = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    rec = await factory.record("順番の本")
    copy = await factory.copy(rec, central, status=CopyStatus.ON_LOAN)
    await factory.loan(await factory.patron("yomu2468"), copy, due_in_days=3)
    first = await factory.patron("yomu2468")
    second = await factory.patron("yomu2468")
    t1 = await api.login(first.card_number, "yomu2468")
    h1 = await hold_for(api, t1, rec.id, central.id)
    clock.advance(timedelta(seconds=1))
    t2 = await api.login(second.card_number, "yomu2468")
    await hold_for(api, t2, rec.id, central.id)
    until = (factory.today() + timedelta(days=14)).isoformat()
    paused = await api.gql(PAUSE, {"h": h1, "u": until}, token=t1)
    assert paused["data"]["pauseHold"]["hold"]["pausedUntil"] == until
    assert (await my_holds(api, t1))[0]["queuePosition"] == 1
    desk = await api.staff_login("desk", "staffpass1")
    back = await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=desk)
    assert back["data"]["checkIn"]["hold"]["state"] == "READY"
    assert (await my_holds(api, t2))[0]["state"] == "READY"
    assert (await my_holds(api, t1))[0]["state"] == "WAITING"
    resumed = await api.gql(PAUSE, {"h": h1, "u": None}, token=t1)
    assert resumed["data"]["pauseHold"]["hold"]["pausedUntil"] is None


async def test_remove_from_basket_only_touches_own_entries(api: Api, factory: Factory) -> None:
    # BASKET-1: entries leave the basket on request, all or nothing: another patron's entry
    # (or a malformed id) in the list answers NOT_FOUND and removes nothing.
    mine = await factory.patron("yomu2468")
    theirs = await factory.patron("yomu2468")
    t_mine = await api.login(mine.card_number, "yomu2468")
    t_theirs = await api.login(theirs.card_number, "yomu2468")
    rec = await factory.record("かごの本")
    e_mine = await basket_add(api, t_mine, rec.id)
    e_theirs = await basket_add(api, t_theirs, rec.id)
    for ids in ([e_mine, e_theirs], [e_mine, "junk"]):
        body = await api.gql(REMOVE, {"e": ids}, token=t_mine)
        assert body["data"]["removeFromBasket"] == {"removed": 0, "errors": [{"code": "NOT_FOUND"}]}
        assert len((await api.gql(BASKET, token=t_mine))["data"]["myBasket"]) == 1
    body = await api.gql(REMOVE, {"e": [e_mine]}, token=t_mine)
    assert body["data"]["removeFromBasket"] == {"removed": 1, "errors": []}
    assert (await api.gql(BASKET, token=t_mine))["data"]["myBasket"] == []
    assert len((await api.gql(BASKET, token=t_theirs))["data"]["myBasket"]) == 1
    dup = await api.gql(REMOVE, {"e": [e_theirs, e_theirs]}, token=t_theirs)
    assert dup["data"]["removeFromBasket"]["errors"] == [{"code": "DUPLICATE_ID"}]
