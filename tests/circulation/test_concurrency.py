"""Concurrency: limits and traps hold under simultaneous requests (HOLD-2, HOLD-7).

The acceptance asks for PostgreSQL; these run on SQLite too, where the write lock does the
serializing."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from models import Hold
from policies.clock import FixedClock
from policies.enums import CopyStatus, HoldState, StaffRole
from tests.circulation.ops import CHECK_IN, basket_add, gid, hold_for, my_holds, place
from tests.support import Api, Factory


async def test_fifty_concurrent_placements_make_exactly_twenty_holds(
    api: Api, factory: Factory
) -> None:
    # HOLD-2: 50 concurrent placeHolds by one patron for 50 books create exactly 20 holds.
    central = await factory.library("CEN")
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    entries = []
    for i in range(50):
        rec = await factory.record(f"同時予約 {i}")
        await factory.copy(rec, central)
        entries.append(await basket_add(api, token, rec.id))
    payloads = await asyncio.gather(*(place(api, token, [e], central.id) for e in entries))
    results = [p["results"][0] for p in payloads]
    assert sum(r["ok"] for r in results) == 20
    assert {e["code"] for r in results if not r["ok"] for e in r["errors"]} == {"HOLD_LIMIT"}
    async with api.app.state.services.sessions() as db:
        count = (await db.execute(select(func.count()).select_from(Hold))).scalar_one()
    assert count == 20


async def test_two_desks_checking_in_for_one_hold_trap_one_copy(api: Api, factory: Factory) -> None:
    # HOLD-7: two desks checking in two copies for the same waiting hold trap only one.
    central = await factory.library("CEN")
    await factory.staff("desk1", "staffpass1", {StaffRole.COUNTER})
    await factory.staff("desk2", "staffpass2", {StaffRole.COUNTER})
    rec = await factory.record("二冊ある本")
    lender = await factory.patron("yomu2468")
    copies = [await factory.copy(rec, central, status=CopyStatus.ON_LOAN) for _ in range(2)]
    for copy in copies:
        await factory.loan(lender, copy, due_in_days=2)
    waiter = await factory.patron("yomu2468")
    await hold_for(api, await api.login(waiter.card_number, "yomu2468"), rec.id, central.id)
    desks = [
        await api.staff_login("desk1", "staffpass1"),
        await api.staff_login("desk2", "staffpass2"),
    ]
    answers = await asyncio.gather(
        *(
            api.gql(CHECK_IN, {"b": c.barcode, "l": gid("Library", central.id)}, token=d)
            for c, d in zip(copies, desks, strict=True)
        )
    )
    trapped = [a["data"]["checkIn"]["hold"] for a in answers if a["data"]["checkIn"]["hold"]]
    assert len(trapped) == 1
    statuses = sorted(a["data"]["checkIn"]["copy"]["status"] for a in answers)
    assert statuses == ["AVAILABLE", "ON_HOLD_SHELF"]


async def test_queue_positions_stay_one_to_n(api: Api, factory: Factory, clock: FixedClock) -> None:
    # HOLD-7: after concurrent placements and a cancellation, positions are 1..n, no gaps.
    central = await factory.library("CEN")
    rec = await factory.record("大人気")
    await factory.copy(rec, central, status=CopyStatus.ON_LOAN)
    tokens = []
    for _ in range(12):
        patron = await factory.patron("yomu2468")
        tokens.append(await api.login(patron.card_number, "yomu2468"))
    entries = [await basket_add(api, t, rec.id) for t in tokens]
    await asyncio.gather(
        *(place(api, t, [e], central.id) for t, e in zip(tokens, entries, strict=True))
    )
    first = (await my_holds(api, tokens[3]))[0]
    await api.gql(
        "mutation($h: ID!) { cancelHold(holdId: $h) { errors { code } } }",
        {"h": first["id"]},
        token=tokens[3],
    )
    views = [h for t in tokens for h in await my_holds(api, t)]
    assert sorted(h["queuePosition"] for h in views) == list(range(1, 12))
    assert {h["queueLength"] for h in views} == {11}
    async with api.app.state.services.sessions() as db:
        waiting = (
            await db.execute(select(func.count()).where(Hold.state == HoldState.WAITING))
        ).scalar_one()
    assert waiting == 11
