"""スマホde貸出: the app shows a rotating code; the counter lends by it; replays are refused."""

from __future__ import annotations

from datetime import timedelta

from policies.clock import FixedClock
from policies.enums import StaffRole
from tests.circulation.ops import gid
from tests.support import Api, Factory, codes

CARD = "{ myCard { cardNumber code expiresAt } }"
OUT = """mutation($k: String, $c: String, $b: String!, $l: ID!) {
  checkOut(cardCode: $k, cardNumber: $c, barcode: $b, libraryId: $l) { loan { dueOn } errors { code } } }"""


async def test_checkout_by_digital_card(api: Api, factory: Factory, clock: FixedClock) -> None:
    # The digital card: staff checkout accepts a fresh code once; a replayed, expired or
    # forged code is refused with its own code and lends nothing.
    lib = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    copies = [await factory.copy(await factory.record(f"本{i}"), lib) for i in range(3)]
    desk = await api.staff_login("desk", "staffpass1")
    card = (await api.gql(CARD, token=token))["data"]["myCard"]
    assert card["cardNumber"] == patron.card_number
    lent = await api.gql(
        OUT, {"k": card["code"], "b": copies[0].barcode, "l": gid("Library", lib.id)}, token=desk
    )
    assert lent["data"]["checkOut"]["errors"] == [] and lent["data"]["checkOut"]["loan"]["dueOn"]
    replay = await api.gql(
        OUT, {"k": card["code"], "b": copies[1].barcode, "l": gid("Library", lib.id)}, token=desk
    )
    assert replay["data"]["checkOut"]["errors"] == [{"code": "CARD_CODE_USED"}]
    stale = (await api.gql(CARD, token=token))["data"]["myCard"]["code"]
    clock.advance(timedelta(minutes=3))
    desk = await api.staff_login("desk", "staffpass1")
    expired = await api.gql(
        OUT, {"k": stale, "b": copies[1].barcode, "l": gid("Library", lib.id)}, token=desk
    )
    assert expired["data"]["checkOut"]["errors"] == [{"code": "CARD_CODE_EXPIRED"}]
    forged = await api.gql(
        OUT,
        {
            "k": stale.replace(patron.card_number, "9999999999"),
            "b": copies[1].barcode,
            "l": gid("Library", lib.id),
        },
        token=desk,
    )
    assert forged["data"]["checkOut"]["errors"] == [{"code": "CARD_CODE_INVALID"}]
    both = await api.gql(
        OUT,
        {"k": stale, "c": patron.card_number, "b": copies[1].barcode, "l": gid("Library", lib.id)},
        token=desk,
    )
    assert both["data"]["checkOut"]["errors"] == [{"code": "INVALID_INPUT"}]
    token = await api.login(patron.card_number, "yomu2468")
    assert len((await api.gql("{ myLoans { id } }", token=token))["data"]["myLoans"]) == 1
    assert codes(await api.gql(CARD)) == ["UNAUTHENTICATED"]
