"""Reading privacy under a race: a check-in and an opt-out at the same moment, sent through
two app instances (two engines, two connection pools) on one database, never leave the
returned loan linked to the patron (issue [R2 4/9] item 1)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from models import Loan, Patron
from policies.clock import FixedClock
from policies.enums import CopyStatus, StaffRole
from server.settings import Settings
from tests.circulation.ops import CHECK_IN, gid
from tests.support import Api, Factory, app_client

KEEP = """mutation($k: Boolean!) { updatePreferences(input: {keepReadingHistory: $k}) {
  patron { keepReadingHistory } errors { code } } }"""
HISTORY = "{ myReadingHistory { record { title } } }"


async def test_check_in_racing_an_opt_out_leaves_no_link(
    api: Api, factory: Factory, settings: Settings, clock: FixedClock, database_url: str
) -> None:
    # Reading privacy: the keep-or-forget decision at check-in is taken under the patron's
    # lock, which an opt-out holds too: 100 races, 0 loans left linked (19/30 before).
    trials = 100 if database_url.startswith("postgresql") else 20
    lib = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    desk = await api.staff_login("desk", "staffpass1")
    patron = await factory.patron("yomu2468", keep_reading_history=True)
    token = await api.login(patron.card_number, "yomu2468")
    record = await factory.record("競争する本")
    linked = 0
    async with app_client(settings, clock) as other:
        for _ in range(trials):
            async with api.app.state.services.sessions() as db, db.begin():
                await db.execute(
                    update(Patron).where(Patron.id == patron.id).values(keep_reading_history=True)
                )
            copy = await factory.copy(record, lib, status=CopyStatus.ON_LOAN)
            loan = await factory.loan(patron, copy, due_in_days=3)
            returned, opted = await asyncio.gather(
                api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", lib.id)}, token=desk),
                other.gql(KEEP, {"k": False}, token=token),
            )
            assert returned["data"]["checkIn"]["returnedLoan"] is not None, returned
            assert opted["data"]["updatePreferences"]["errors"] == [], opted
            async with api.app.state.services.sessions() as db:
                kept = await db.scalar(select(Loan.patron_id).where(Loan.id == loan.id))
            history = (await other.gql(HISTORY, token=token))["data"]["myReadingHistory"]
            linked += kept is not None or bool(history)
    assert linked == 0
