"""Whole lives of a title, as patrons and staff meet it (BASKET-2, HOLD-5..8, LOAN-2, LOAN-5)."""

from __future__ import annotations

from datetime import timedelta

from policies.clock import FixedClock
from policies.enums import CopyStatus, LibraryKind, StaffRole
from resolvers.circulation.expiry import expire_ready_holds
from tests.circulation.ops import (
    CHECK_IN,
    CHECK_OUT,
    LOANS,
    PREVIEW,
    PULL_LIST,
    PULLED,
    RECEIVE,
    RENEW,
    SET_DAY,
    basket_add,
    gid,
    my_holds,
    place,
)
from tests.support import Api, Factory


async def test_life_of_a_hold_from_basket_to_return(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # BASKET-2 HOLD-5 HOLD-6 HOLD-8 LOAN-2 LOAN-5: basket, preview, hold, pull, transit to
    # another library, ready, a closed day moving the deadline, collection, renewal, return.
    central = await factory.library("CEN")
    branch = await factory.library("KIT", LibraryKind.BRANCH)
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER, StaffRole.CALENDAR})
    rec = await factory.record("銀河鉄道の夜", responsibility="宮沢賢治")
    copy = await factory.copy(rec, central)
    patron = await factory.patron("yomu2468", default_pickup_library_id=branch.id)

    token = await api.login(patron.card_number, "yomu2468")
    entry = await basket_add(api, token, rec.id)
    preview = (await api.gql(PREVIEW, {"e": [entry]}, token=token))["data"]["previewHolds"]
    assert preview["results"][0]["ok"] and preview["pickupLibrary"] == {"code": "KIT"}
    placed = await place(api, token, [entry])
    assert placed["results"][0]["hold"]["state"] == "WAITING"

    # Next morning: the copy is on central's pull list; pulled, it travels to the branch.
    clock.advance(timedelta(days=1))
    desk = await api.staff_login("desk", "staffpass1")
    pull = (await api.gql(PULL_LIST, {"l": gid("Library", central.id)}, token=desk))["data"][
        "pullList"
    ]
    assert [p["copy"]["barcode"] for p in pull] == [copy.barcode]
    pulled = (await api.gql(PULLED, {"b": copy.barcode}, token=desk))["data"]["markPulled"]
    assert pulled["hold"]["state"] == "IN_TRANSIT"

    # The branch is closed on the 7th day after arrival: the deadline moves past it.
    clock.advance(timedelta(days=1))
    desk = await api.staff_login("desk", "staffpass1")
    arrival = factory.today()
    closed = arrival + timedelta(days=7)
    await api.gql(
        SET_DAY, {"l": gid("Library", branch.id), "d": closed.isoformat(), "o": False}, token=desk
    )
    ready = (
        await api.gql(RECEIVE, {"b": copy.barcode, "l": gid("Library", branch.id)}, token=desk)
    )["data"]["receiveTransit"]
    assert ready["hold"]["state"] == "READY"
    assert ready["hold"]["pickupDeadline"] == (closed + timedelta(days=1)).isoformat()
    token = await api.login(patron.card_number, "yomu2468")
    assert (await my_holds(api, token))[0]["pickupDeadline"] == (
        closed + timedelta(days=1)
    ).isoformat()

    # Collected at the branch three days later.
    clock.advance(timedelta(days=3))
    desk = await api.staff_login("desk", "staffpass1")
    out = (
        await api.gql(
            CHECK_OUT,
            {"c": patron.card_number, "b": copy.barcode, "l": gid("Library", branch.id)},
            token=desk,
        )
    )["data"]["checkOut"]
    assert out["errors"] == [] and out["collectedHold"]["state"] == "COLLECTED"
    token = await api.login(patron.card_number, "yomu2468")
    assert await my_holds(api, token) == []
    [loan] = (await api.gql(LOANS, token=token))["data"]["myLoans"]
    # LOAN-6: on the day of the checkout a renewal would not move the due date.
    assert loan["renewable"] is False and loan["renewalBlockedBy"] == "RENEWAL_NO_CHANGE"

    # Renewed ten days later: the day of renewal + 15.
    clock.advance(timedelta(days=10))
    token = await api.login(patron.card_number, "yomu2468")
    renewed = (await api.gql(RENEW, {"l": [loan["id"]]}, token=token))["data"]["renewLoans"][
        "results"
    ][0]
    assert (
        renewed["renewed"]
        and renewed["loan"]["dueOn"] == (factory.today() + timedelta(days=15)).isoformat()
    )

    # Returned at the branch: it goes home to central, and is on the shelf when it arrives.
    desk = await api.staff_login("desk", "staffpass1")
    back = (
        await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", branch.id)}, token=desk)
    )["data"]["checkIn"]
    assert back["hold"] is None and back["copy"]["status"] == "IN_TRANSIT"
    home = (
        await api.gql(RECEIVE, {"b": copy.barcode, "l": gid("Library", central.id)}, token=desk)
    )["data"]["receiveTransit"]
    assert home["copy"]["status"] == "AVAILABLE"
    assert (await api.gql(LOANS, token=token))["data"]["myLoans"] == []


async def test_expiry_hands_the_copy_to_the_next_patron(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    # HOLD-8: an uncollected ready hold expires after its deadline and the copy is trapped
    # for the next patron in line, READY at once when the pickup library is the same.
    central = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    rec = await factory.record("順番待ちの本")
    copy = await factory.copy(rec, central, status=CopyStatus.ON_LOAN)
    lender = await factory.patron("yomu2468")
    await factory.loan(lender, copy, due_in_days=1)
    first = await factory.patron("yomu2468")
    second = await factory.patron("yomu2468")
    for patron in (first, second):
        token = await api.login(patron.card_number, "yomu2468")
        await place(api, token, [await basket_add(api, token, rec.id)], central.id)
        clock.advance(timedelta(minutes=1))
    desk = await api.staff_login("desk", "staffpass1")
    returned = (
        await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=desk)
    )["data"]["checkIn"]
    assert returned["hold"]["state"] == "READY"
    token2 = await api.login(second.card_number, "yomu2468")
    assert (await my_holds(api, token2))[0]["queuePosition"] == 1
    clock.advance(timedelta(days=8))
    services = api.app.state.services
    report = await expire_ready_holds(
        services.sessions, services.policy, clock.now(), factory.today()
    )
    assert len(report.expired) == 1 and len(report.passed_on) == 1
    token1 = await api.login(first.card_number, "yomu2468")
    assert await my_holds(api, token1) == []
    token2 = await api.login(second.card_number, "yomu2468")
    [hold] = await my_holds(api, token2)
    assert hold["state"] == "READY"
    assert hold["pickupDeadline"] == (factory.today() + timedelta(days=7)).isoformat()
