"""What the OPAC's record page and the app's card need from the API: the number of holds
on a title, the due date of a copy on loan (never who has it), and the card code as a QR
code (issue 23)."""

from __future__ import annotations

from models import Hold
from policies.enums import CopyStatus, HoldState
from resolvers.accounts.card import qr_svg
from tests.circulation.ops import gid
from tests.support import Api, Factory

RECORD = """query($id: ID!) { record(id: $id) { holdCount copies { barcode status dueOn } } }"""


async def test_hold_count_and_due_date_of_copies_on_loan(api: Api, factory: Factory) -> None:
    # HOLD-7: the waiting line's length; LOAN: 返却期限 of a copy on loan, null otherwise.
    lib = await factory.library("CEN")
    record = await factory.record("坊っちゃん")
    out = await factory.copy(record, lib, status=CopyStatus.ON_LOAN)
    await factory.copy(record, lib)
    borrower = await factory.patron()
    loan = await factory.loan(borrower, out, due_in_days=7)
    for state in (HoldState.WAITING, HoldState.WAITING, HoldState.CANCELLED):
        waiter = await factory.patron()
        await factory.add(
            Hold(
                patron_id=waiter.id,
                record_id=record.id,
                pickup_library_id=lib.id,
                state=state,
                placed_at=factory.clock.now(),
            )
        )
    body = await api.gql(RECORD, {"id": gid("Record", record.id)})
    found = body["data"]["record"]
    assert found["holdCount"] == 2  # cancelled holds are not in line
    due = {c["barcode"]: c["dueOn"] for c in found["copies"]}
    assert due == {
        out.barcode: loan.due_on.isoformat(),
        **{b: None for b in due if b != out.barcode},
    }


async def test_card_code_as_qr_svg(api: Api, factory: Factory) -> None:
    # スマホde貸出: the rotating code rendered as a QR code the counter scans.
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    card = (await api.gql("{ myCard { code qrSvg } }", token=token))["data"]["myCard"]
    svg = card["qrSvg"]
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "<path" in svg
    # It is this code's QR (not a stale one): the same code renders the same matrix.
    assert svg == qr_svg(card["code"])
