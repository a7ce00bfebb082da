"""Mail and reading privacy (issue [R2 4/9]): a notice is re-checked when it goes, a sent
mail's text is readable by staff while retained, and the retention scrub leaves only kind,
day, state and the recipients' domains. Real worker on Redis, real SMTP on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models import OutboxMessage
from policies.enums import ContactMethod, CopyStatus, OutboxState, StaffRole
from resolvers.circulation.notices import queue_due_reminders
from tests.circulation.ops import CHECK_IN, gid
from tests.support import Api, Factory
from tests.workers.conftest import Sink, Workers
from workers.app import app as celery_app

DISPATCH = "hondana.mail.dispatch"
SCRUB = "hondana.mail.scrub"
LOG = """query($c: String!) { mailLog(cardNumber: $c) { kind state recipients body } }"""


def jst(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC) - timedelta(hours=9)


async def test_a_returned_loan_gets_no_reminder(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-2 / reading privacy: a reminder queued for two loans is re-checked when it goes;
    # the loan returned in between is not named, and a mail naming only returned loans is
    # not sent at all (a reminder naming a returned title was sent before).
    central = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    patron = await factory.patron(
        "yomu2468",
        contact_method=ContactMethod.EMAIL,
        email1="hanako@example.jp",
        due_reminder=True,
        due_reminder_days=3,
    )
    other = await factory.patron(
        "yomu2468", email1="taro@example.jp", due_reminder=True, due_reminder_days=3
    )
    copies = {}
    for title, who in (("返した本", patron), ("まだ借りている本", patron), ("二人目の本", other)):
        copies[title] = await factory.copy(
            await factory.record(title), central, status=CopyStatus.ON_LOAN
        )
        await factory.loan(who, copies[title], due_in_days=1)
    services = api.app.state.services
    now = jst(2026, 11, 30, 8)
    assert await queue_due_reminders(services.sessions, services.policy, now, now.date()) == 2
    desk = await api.staff_login("desk", "staffpass1")
    for title in ("返した本", "二人目の本"):
        await api.gql(
            CHECK_IN, {"b": copies[title].barcode, "l": gid("Library", central.id)}, token=desk
        )
    report = workers.call(DISPATCH, now=jst(2026, 11, 30, 9).isoformat())
    assert (report["sent"], report["skipped"]) == (1, 1)
    [(rcpts, msg)] = smtp.messages
    assert rcpts == ["hanako@example.jp"]
    assert "まだ借りている本" in msg.get_content() and "返した本" not in msg.get_content()


async def test_sent_mail_is_readable_then_scrubbed_after_retention(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # Reading privacy / STAFF-1: staff read what a mail said while it is retained (30 days
    # by default); then a beat task leaves kind, day, state and the recipients' domains.
    central = await factory.library("CEN")
    patron = await factory.patron(
        "yomu2468",
        email1="hanako@example.jp",
        email2="Hanako@Docomo.ne.jp",
        due_reminder=True,
        due_reminder_days=3,
    )
    await factory.loan(
        patron, await factory.copy(await factory.record("秘密の本"), central), due_in_days=1
    )
    sent_at = jst(2026, 11, 30, 8)
    assert workers.call("hondana.mail.due_reminders", now=sent_at.isoformat())["sent"] == 1
    await factory.staff("mailer", "staffpass3", {StaffRole.MAIL})
    staff = await api.staff_login("mailer", "staffpass3")
    [entry] = (await api.gql(LOG, {"c": patron.card_number}, token=staff))["data"]["mailLog"]
    assert entry["state"] == "SENT" and "秘密の本" in entry["body"]
    assert entry["body"].startswith("【茨木市立図書館】返却期限日のお知らせ\n\n")
    assert "scrub-mail" in celery_app.conf.beat_schedule
    early = (sent_at + timedelta(days=29)).isoformat()
    assert workers.call(SCRUB, now=early) == {"scrubbed": 0}
    late = (sent_at + timedelta(days=30, minutes=1)).isoformat()
    assert workers.call(SCRUB, now=late) == {"scrubbed": 1}
    assert workers.call(SCRUB, now=late) == {"scrubbed": 0}  # idempotent
    async with api.app.state.services.sessions() as db:
        row = (await db.execute(select(OutboxMessage))).scalar_one()
    assert row.state is OutboxState.SENT and row.kind == "due_reminder"
    assert row.patron_id is None and row.payload == {} and row.body is None
    assert row.recipients == ["docomo.ne.jp", "example.jp"]
    assert row.message_id is None and row.dedupe_key == f"scrubbed:{row.id}"
    assert row.sent_at == jst(2026, 11, 30, 0)  # the library day only
    assert (await api.gql(LOG, {"c": patron.card_number}, token=staff))["data"]["mailLog"] == []
