"""Notices as the library's guide words them, through a real worker and SMTP (MAIL-2)."""

from __future__ import annotations

from sqlalchemy import update

from models import Loan
from tests.circulation.ops import hold_for
from tests.support import Api, Factory
from tests.workers.conftest import Sink, Workers
from tests.workers.test_mail import _emailer, jst


async def test_due_reminder_offers_renewal_only_where_it_is_possible(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    """MAIL-2 with LOAN-3: 「予約がなく、返却期限が過ぎていない場合、1回に限り延長ができます。」
    and 「下記の資料は延長できません - 予約が入っている資料 ... - 1回延長されている資料」: the
    reminder says per loan whether 延長 is possible and never suggests the impossible one."""
    central = await factory.library("CEN")
    patron = await _emailer(factory, due_reminder=True, due_reminder_days=2)
    other = await factory.patron("yomu2468")
    loans = {}
    for title in ("延長できる本", "延長済みの本", "予約のある本"):
        record = await factory.record(title)
        loans[title] = await factory.loan(
            patron, await factory.copy(record, central), due_in_days=2
        )
        if title == "予約のある本":
            await factory.copy(record, central)  # a second copy, so the title is holdable
            token = await api.login(other.card_number, "yomu2468")
            await hold_for(api, token, record.id, central.id)
    async with api.app.state.services.sessions() as db, db.begin():
        await db.execute(update(Loan).where(Loan.id == loans["延長済みの本"].id).values(renewals=1))
    assert workers.call("hondana.mail.due_reminders", now=jst(2026, 11, 30, 8))["sent"] == 1
    [(_, msg)] = smtp.messages
    lines = {
        line.split("返却期限日")[0].strip(" ・"): line
        for line in msg.get_content().splitlines()
        if "返却期限日:" in line
    }
    assert "(延長できます)" in lines["延長できる本"]
    assert "(延長できません)" in lines["延長済みの本"]
    assert "(延長できません)" in lines["予約のある本"]
