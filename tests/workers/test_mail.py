"""Every notice through a real Celery worker on Redis to a real SMTP server on loopback,
with a moved clock: recipients, headers, Japanese content and timing (MAIL-1..7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

from sqlalchemy import select, update

from models import Loan, OutboxMessage, Patron
from policies.enums import ContactMethod, CopyStatus, OutboxState, StaffRole
from resolvers.mail.outbox import queue_mail
from tests.circulation.ops import CHECK_IN, gid, hold_for
from tests.support import Api, Factory
from tests.workers.conftest import Sink, Workers

DISPATCH = "hondana.mail.dispatch"


def jst(y: int, m: int, d: int, h: int = 9, minute: int = 0) -> str:
    return (datetime(y, m, d, h, minute, tzinfo=UTC) - timedelta(hours=9)).isoformat()


def subject(msg: object) -> str:
    return str(make_header(decode_header(msg["Subject"])))  # type: ignore[index]


async def _emailer(factory: Factory, **kw: Any) -> Patron:
    return await factory.patron(
        "yomu2468",
        contact_method=ContactMethod.EMAIL,
        email1="hanako@example.jp",
        email2="hanako@docomo.ne.jp",
        name="山田 花子",
        **kw,
    )


async def test_hold_ready_mail_on_next_opening_day(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-1: sent on the next opening day of the pickup library after the copy is secured,
    # to Email1 and Email2, naming title, library and deadline. MAIL-7: send-only From.
    central = await factory.library(
        "CEN", name="中央図書館", closed_weekdays="2"
    )  # closed Tuesdays
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    rec = await factory.record("銀河鉄道の夜")
    copy = await factory.copy(rec, central, status=CopyStatus.ON_LOAN)
    await factory.loan(await factory.patron("yomu2468"), copy, due_in_days=3)
    patron = await _emailer(factory)
    await hold_for(api, await api.login(patron.card_number, "yomu2468"), rec.id, central.id)
    desk = await api.staff_login("desk", "staffpass1")
    await api.gql(
        CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=desk
    )  # Monday

    assert workers.call(DISPATCH, now=jst(2026, 12, 1, 12)) == {
        "sent": 0,
        "retried": 0,
        "failed": 0,
        "skipped": 0,
    }
    assert workers.call(DISPATCH, now=jst(2026, 12, 2, 9))["sent"] == 1  # Wednesday 09:00
    [(rcpts, msg)] = smtp.messages
    assert rcpts == ["hanako@example.jp", "hanako@docomo.ne.jp"]
    assert subject(msg) == "【茨木市立図書館】予約資料確保のお知らせ"
    assert "=?utf-8?" in msg.as_string().split("\n\n")[0]  # RFC 2047 on the wire
    assert msg["From"].addresses[0].addr_spec == "no-reply@library.example.jp"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].startswith("<hold_ready.")
    body = msg.get_content()
    assert "山田 花子 様" in body and "銀河鉄道の夜" in body and "中央図書館" in body
    assert "2026年12月7日(月)" in body
    assert "送信専用" in body and "返信されても受信できません" in body
    assert workers.call(DISPATCH, now=jst(2026, 12, 2, 10))["sent"] == 0  # once only


async def test_no_mail_for_other_contact_methods_or_collected_holds(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-1: only for contact method EMAIL; a hold collected before the mail's day gets none.
    central = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    phone = await factory.patron(
        "yomu2468", contact_method=ContactMethod.PHONE, email1="p@example.jp"
    )
    mailer = await _emailer(factory)
    for patron, title in ((phone, "電話の本"), (mailer, "受取済みの本")):
        rec = await factory.record(title)
        copy = await factory.copy(rec, central, status=CopyStatus.ON_LOAN)
        await factory.loan(await factory.patron("yomu2468"), copy, due_in_days=3)
        await hold_for(api, await api.login(patron.card_number, "yomu2468"), rec.id, central.id)
        desk = await api.staff_login("desk", "staffpass1")
        await api.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", central.id)}, token=desk)
    desk = await api.staff_login("desk", "staffpass1")
    out = await api.gql(
        "mutation($c: String!, $b: String!, $l: ID!) { checkOut(cardNumber: $c, barcode: $b, libraryId: $l) { errors { code } } }",
        {"c": mailer.card_number, "b": copy.barcode, "l": gid("Library", central.id)},
        token=desk,
    )
    assert out["data"]["checkOut"]["errors"] == []
    assert workers.call(DISPATCH, now=jst(2026, 12, 2, 9)) == {
        "sent": 0,
        "retried": 0,
        "failed": 0,
        "skipped": 1,
    }
    assert smtp.messages == []


async def test_due_reminder_one_mail_per_patron_per_day(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-2 / PREF-5: opted-in patrons get one mail listing every loan due within their days.
    central = await factory.library("CEN")
    patron = await _emailer(factory, due_reminder=True, due_reminder_days=2)
    quiet = await factory.patron("yomu2468", email1="quiet@example.jp")  # not opted in
    for title, days in (("明後日の本", 2), ("明日の本", 1), ("来週の本", 7)):
        await factory.loan(
            patron, await factory.copy(await factory.record(title), central), due_in_days=days
        )
    await factory.loan(
        quiet, await factory.copy(await factory.record("静かな本"), central), due_in_days=1
    )
    result = workers.call("hondana.mail.due_reminders", now=jst(2026, 11, 30, 8))
    assert result == {"queued": 1, "sent": 1}
    [(_, msg)] = smtp.messages
    assert subject(msg) == "【茨木市立図書館】返却期限日のお知らせ"
    body = msg.get_content()
    assert "明後日の本" in body and "明日の本" in body and "来週の本" not in body
    assert "2026年12月2日(水)" in body
    assert workers.call("hondana.mail.due_reminders", now=jst(2026, 11, 30, 9)) == {
        "queued": 0,
        "sent": 0,
    }
    # Five days on, the third loan is two days away: a new mail for it alone.
    assert workers.call("hondana.mail.due_reminders", now=jst(2026, 12, 5, 8)) == {
        "queued": 1,
        "sent": 1,
    }
    assert "来週の本" in smtp.messages[-1][1].get_content()


async def test_overdue_notice_after_period_then_every_interval(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-3: after 7 days overdue, repeated every 14 days, one mail per patron.
    central = await factory.library("CEN")
    patron = await _emailer(factory)
    for title in ("延滞A", "延滞B"):
        await factory.loan(
            patron, await factory.copy(await factory.record(title), central), due_in_days=-6
        )
    call = "hondana.mail.overdue"
    assert workers.call(call, now=jst(2026, 11, 30, 8)) == {"queued": 0, "sent": 0}  # 6 days
    assert workers.call(call, now=jst(2026, 12, 1, 8)) == {"queued": 1, "sent": 1}  # 7 days
    body = smtp.messages[0][1].get_content()
    assert "延滞A" in body and "延滞B" in body and "7日経過" in body
    assert workers.call(call, now=jst(2026, 12, 14, 8))["queued"] == 0  # 13 days later
    assert workers.call(call, now=jst(2026, 12, 15, 8)) == {"queued": 1, "sent": 1}  # 14 days later
    assert len(smtp.messages) == 2


async def test_new_arrivals_weekly_only_when_something_matches(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-4 / PREF-6: titles added in the week matching the patron's fields; none otherwise.
    fan = await _emailer(
        factory,
        new_arrival_fields={"keywords": ["宮沢"], "subject_classes": ["913"], "authors": []},
    )
    other = await factory.patron(
        "yomu2468", email1="o@example.jp", new_arrival_fields={"keywords": ["量子"]}
    )
    await factory.record("注文の多い料理店", responsibility="宮沢賢治")
    await factory.record("日本の小説", subject_class="913.6")
    await factory.record("関係のない本")
    result = workers.call("hondana.mail.new_arrivals", now=jst(2026, 12, 7, 7))  # next Monday
    assert result == {"queued": 1, "sent": 1}
    [(rcpts, msg)] = smtp.messages
    assert "hanako@example.jp" in rcpts and "o@example.jp" not in rcpts
    body = msg.get_content()
    assert "注文の多い料理店" in body and "日本の小説" in body and "関係のない本" not in body
    assert workers.call("hondana.mail.new_arrivals", now=jst(2026, 12, 7, 8)) == {
        "queued": 0,
        "sent": 0,
    }
    del fan, other


async def test_temporary_password_and_ebook_mails(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-5 / MAIL-6: the e-book and temporary-password notices, ready for [4/8]; the
    # temporary password leaves the outbox once sent.
    patron = await _emailer(factory)
    services = api.app.state.services
    now = datetime.fromisoformat(jst(2026, 11, 30, 10))
    async with services.sessions() as db, db.begin():
        await queue_mail(
            db,
            kind="temporary_password",
            dedupe_key="pw:1",
            patron_id=patron.id,
            payload={"temporary_password": "Kari5738"},
            not_before=now,
            now=now,
        )
        await queue_mail(
            db,
            kind="ebook_hold_ready",
            dedupe_key="ebook:1",
            patron_id=patron.id,
            payload={"title": "電子の本", "deadline": date(2026, 12, 7).isoformat()},
            not_before=now,
            now=now,
        )
    assert workers.call(DISPATCH, now=jst(2026, 11, 30, 10))["sent"] == 2
    subjects = sorted(subject(m) for _, m in smtp.messages)
    assert subjects == [
        "【茨木市立図書館】仮パスワード再発行のお知らせ",
        "【茨木市立図書館】電子書籍の予約確保のお知らせ",
    ]
    assert any("Kari5738" in m.get_content() for _, m in smtp.messages)
    async with services.sessions() as db:
        row = (
            await db.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == "pw:1"))
        ).scalar_one()
    assert row.state is OutboxState.SENT and "temporary_password" not in row.payload
    # The text kept for staff masks the temporary password (reading privacy: mailLog body).
    assert row.body is not None and "Kari5738" not in row.body and "********" in row.body


async def test_permanent_failure_marks_the_address(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-8 / PREF-2: a 5xx marks that address failing (shown to patron and staff); the
    # other address still gets the mail; with every address failing the mail fails.
    smtp.refuse["hanako@docomo.ne.jp"] = "550 5.1.1 User unknown"
    patron = await _emailer(factory)
    services = api.app.state.services
    now = datetime.fromisoformat(jst(2026, 11, 30, 10))
    async with services.sessions() as db, db.begin():
        for key in ("a", "b"):
            await queue_mail(
                db,
                kind="temporary_password",
                dedupe_key=f"pw:{key}",
                patron_id=patron.id,
                payload={"temporary_password": "Kari5738"},
                not_before=now,
                now=now,
            )
    smtp.refuse["hanako@example.jp"] = "450 4.2.0 Mailbox busy"
    first = workers.call(DISPATCH, now=jst(2026, 11, 30, 10))
    assert first["retried"] == 2  # one address refused for good, the other only for now
    async with services.sessions() as db:
        row = await db.get(Patron, patron.id)
    assert (
        row is not None
        and row.email2_failure == "550 5.1.1 User unknown"
        and row.email1_failure is None
    )
    del smtp.refuse["hanako@example.jp"]
    assert workers.call(DISPATCH, now=jst(2026, 11, 30, 11))["sent"] == 2
    assert {tuple(r) for r, _ in smtp.messages} == {("hanako@example.jp",)}
    token = await api.login(patron.card_number, "yomu2468")
    me = await api.gql("{ me { email2 email2Failure email1Failure } }", token=token)
    assert "errors" not in me, me
    assert me["data"]["me"] == {
        "email2": "hanako@docomo.ne.jp",
        "email2Failure": "550 5.1.1 User unknown",
        "email1Failure": None,
    }
    await factory.staff("mailer", "staffpass3", {StaffRole.MAIL})
    staff = await api.staff_login("mailer", "staffpass3")
    log = await api.gql(
        "query($c: String!) { mailLog(cardNumber: $c) { kind state attempts recipients lastError } }",
        {"c": patron.card_number},
        token=staff,
    )
    assert [(m["kind"], m["state"]) for m in log["data"]["mailLog"]] == [
        ("temporary_password", "SENT")
    ] * 2
    assert [
        (e["extensions"]["code"])
        for e in (
            await api.gql(
                "query($c: String!) { mailLog(cardNumber: $c) { kind } }",
                {"c": patron.card_number},
                token=token,
            )
        )["errors"]
    ] == ["FORBIDDEN"]


async def test_loans_are_untouched_by_reminders_for_returned_items(
    api: Api, factory: Factory, workers: Workers, smtp: Sink
) -> None:
    # MAIL-2: returned loans earn no reminder: the same patron's open loan, due the same
    # day, is reminded in the same run, and the returned one is neither listed nor marked.
    central = await factory.library("CEN")
    patron = await _emailer(factory, due_reminder=True, due_reminder_days=3)
    returned, kept = [
        await factory.loan(
            patron, await factory.copy(await factory.record(title), central), due_in_days=1
        )
        for title in ("返した本", "借りている本")
    ]
    async with api.app.state.services.sessions() as db, db.begin():
        await db.execute(
            update(Loan)
            .where(Loan.id == returned.id)
            # returned the evening before the scan's morning (not the machine's wall clock)
            .values(returned_at=datetime.fromisoformat(jst(2026, 11, 29, 18)))
        )
    assert workers.call("hondana.mail.due_reminders", now=jst(2026, 11, 30, 8)) == {
        "queued": 1,
        "sent": 1,
    }
    [(_, msg)] = smtp.messages
    body = msg.get_content()
    assert "借りている本" in body and "返した本" not in body
    async with api.app.state.services.sessions() as db:
        rows = await db.execute(select(Loan.id, Loan.reminded_for_due_on))
        marks = {loan_id: marked for loan_id, marked in rows}
    assert marks[returned.id] is None
    assert marks[kept.id] is not None
