"""The development clock (issue [R2 5/9]): set or moved by a staff ADMIN, used by every
policy, scan and mail in the API and the workers alike, refused outright in production."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Hold
from policies.enums import CopyStatus, HoldState, StaffRole
from tests.circulation.ops import PULLED, hold_for
from tests.support import Api, Factory
from tests.workers.conftest import Workers

ADVANCE = """mutation($d: Int!) { advanceDevClock(days: $d) { now errors { code } } }"""
SET = """mutation($n: DateTime!) { setDevClock(now: $n) { now errors { code field } } }"""
RESET = """mutation { resetDevClock { now errors { code } } }"""
SCAN = """mutation($s: ScheduledScan!) { runScheduledScan(scan: $s) { scan outcome errors { code } } }"""


async def _ready_hold(api: Api, factory: Factory) -> int:
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    desk = await api.staff_login("desk", "staffpass1")
    central = await factory.library("CEN")
    patron = await factory.patron("yomu2468")
    rec = await factory.record("取りに来ない本")
    copy = await factory.copy(rec, central, status=CopyStatus.AVAILABLE)
    await hold_for(api, await api.login(patron.card_number, "yomu2468"), rec.id, central.id)
    assert (await api.gql(PULLED, {"b": copy.barcode}, token=desk))["data"]["markPulled"]["hold"][
        "state"
    ] == "READY"
    async with api.app.state.services.sessions() as db:
        return (await db.execute(select(Hold.id))).scalar_one()


async def _state(api: Api, hold_id: int) -> HoldState:
    async with api.app.state.services.sessions() as db:
        hold = await db.get(Hold, hold_id)
    assert hold is not None
    return hold.state


async def test_admin_moves_the_clock_and_runs_a_scan(api: Api, factory: Factory) -> None:
    """HOLD-8 as the guide says it: 「用意ができた後、予約有効期限日までに取りに来られなかった
    場合は、予約は取り消されます。」 A tester moves the clock past the deadline and runs the
    hold-expiry scan now; the hold is expired by the same time the API shows."""
    hold_id = await _ready_hold(api, factory)
    await factory.staff("admin", "staffpass1", {StaffRole.ADMIN})
    await factory.staff("clerk", "staffpass1", {StaffRole.COUNTER})
    admin = await api.staff_login("admin", "staffpass1")
    clerk = await api.staff_login("clerk", "staffpass1")
    denied = await api.gql(ADVANCE, {"d": 8}, token=clerk)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    before = api.app.state.services.clock.now()
    moved = (await api.gql(ADVANCE, {"d": 8}, token=admin))["data"]["advanceDevClock"]
    assert moved["errors"] == []
    admin = await api.staff_login("admin", "staffpass1")  # eight idle days end a session
    ran = (await api.gql(SCAN, {"s": "HOLD_EXPIRY"}, token=admin))["data"]["runScheduledScan"]
    assert ran["errors"] == [] and ran["scan"] == "HOLD_EXPIRY"
    assert await _state(api, hold_id) is HoldState.EXPIRED
    assert api.app.state.services.clock.now() - before >= timedelta(days=8)
    naive = await api.gql(SET, {"n": "2026-12-24T10:00:00"}, token=admin)
    assert naive["data"]["setDevClock"]["errors"] == [{"code": "INVALID_INPUT", "field": "now"}]
    back = await api.gql(RESET, token=admin)
    assert back["data"]["resetDevClock"]["errors"] == []
    assert api.app.state.services.clock.now() - before < timedelta(hours=1)


async def test_the_worker_sees_the_api_s_clock(
    api: Api, factory: Factory, workers: Workers
) -> None:
    """One "now" for API and workers: the offset the API stored moves the worker's scan
    (which is given no time of its own, as beat runs it)."""
    hold_id = await _ready_hold(api, factory)
    await factory.staff("admin", "staffpass1", {StaffRole.ADMIN})
    admin = await api.staff_login("admin", "staffpass1")
    # The test app's base clock stands at 2026-11-30; the worker's is the machine's. Put
    # the development clock ten days past the hold's deadline for both.
    target = (api.app.state.services.clock.now() + timedelta(days=10)).isoformat()
    assert (await api.gql(SET, {"n": target}, token=admin))["data"]["setDevClock"]["errors"] == []
    assert workers.call("hondana.holds.expire")["expired"] == 1
    assert await _state(api, hold_id) is HoldState.EXPIRED
