"""The library's web-service guide walked from top to bottom by one patron and one clerk,
with the front ends' own documents, a real Celery worker and a real SMTP server; every
mail's text is checked on the way (issue [R2 5/9]).

The guide's sections, in its order: パスワードについて (apply, change), 資料検索, 予約かご,
予約内容確認 / 予約結果 (上・下巻), 予約資料確保のお知らせ on the next opening day, 受取,
延長, 返却期限日のお知らせ, 返却期日が経過した資料のお知らせ, 電子書籍 (loan and hold),
My本棚, 連絡方法の設定, パスワードを忘れたときは.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from models import EbookTitle
from policies.clock import FixedClock
from policies.enums import CopyStatus, MaterialType, StaffRole
from tests.circulation.ops import gid
from tests.support import Api, Factory
from tests.workers.conftest import Sink, Workers
from tests.workers.test_mail import jst, subject

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
DISPATCH = "hondana.mail.dispatch"


async def run(
    api: Api, front: str, operation: str, token: str | None = None, /, **variables: Any
) -> Any:
    """Send one of a front end's own operations; answer its single top-level field."""
    text = (CLIENTS / front / f"{operation}.graphql").read_text(encoding="utf-8")
    body = await api.gql(text, variables, token=token)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def mails(smtp: Sink, since: int) -> list[tuple[str, str, EmailMessage]]:
    """(subject, body, message) of every mail received after the first ``since``."""
    return [(subject(m), m.get_content(), m) for _, m in smtp.messages[since:]]


def no_reply_footer(body: str) -> None:
    """MAIL-7: 「メールは、送信専用です。届いたメールに返信されても受信はできません。」"""
    assert "送信専用" in body and "返信されても受信できません" in body


async def _library(factory: Factory) -> tuple[Any, dict[str, Any]]:
    central = await factory.library("CEN", name="中央図書館", closed_weekdays="2")
    upper = await factory.record("長い物語 上", series="長い物語", volume="上")
    lower = await factory.record("長い物語 下", series="長い物語", volume="下")
    ebook = await factory.record("電子の物語", material_type=MaterialType.EBOOK)
    await factory.add(EbookTitle(record_id=ebook.id, licences=1))
    reader = await factory.patron("yomu2468")
    upper_copy = await factory.copy(upper, central, status=CopyStatus.ON_LOAN)
    await factory.loan(reader, upper_copy, due_in_days=3)
    lower_copy = await factory.copy(lower, central)
    things = {"upper": upper, "lower": lower, "ebook": ebook, "reader": reader,
              "upper_copy": upper_copy, "lower_copy": lower_copy}  # fmt: skip
    return central, things


async def test_the_guide_from_top_to_bottom(
    api: Api, factory: Factory, clock: FixedClock, workers: Workers, smtp: Sink
) -> None:
    """One patron and one clerk, the guide's order; each step's assertion quotes its line."""
    central, t = await _library(factory)
    lib = gid("Library", central.id)
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    desk = await api.staff_login("desk", "staffpass1")
    # AUTH-3: the temporary password goes only to an address the library already holds.
    patron = await factory.patron(
        None, birth_date=date(1995, 4, 2), name_kana="イバラキ ハナコ", email1="hanako@example.jp"
    )

    # パスワードについて: 「webからの登録は、パスワード新規発行のページから申請をしてください。」
    applied = await run(api, "web-opac", "ApplyForPassword", cardNumber=patron.card_number,
                        birthDate="1995-04-02", email="hanako@example.jp")  # fmt: skip
    assert applied["accepted"] and "生年月日" in applied["message"]
    workers.call(DISPATCH, now=jst(2026, 11, 30, 10, 1))
    [(subj, body, _)] = mails(smtp, 0)
    # 「申請された方には、仮パスワードを発行します。」 — a first issue, not a 再発行.
    assert subj == "【茨木市立図書館】仮パスワード発行のお知らせ" and "再発行" not in body
    assert "英数字6から10桁" in body and "推測" in body
    no_reply_footer(body)
    temporary = re.search(r"仮パスワード:(\w+)", body)
    assert temporary is not None
    token = await api.login(patron.card_number, temporary.group(1))
    # 「仮パスワードのままでは、図書の予約、貸出状況の確認、延長…を利用することができません。」
    blocked = await api.gql("{ myLoans { id } }", token=token)
    assert blocked["errors"][0]["extensions"]["code"] == "TEMPORARY_PASSWORD"

    # パスワードを変更するには: 「第3者が推測できそうなパスワードは避けてください。」
    guessed = await run(api, "web-opac", "ChangePassword", token,
                        currentPassword=temporary.group(1), newPassword="hanako95")  # fmt: skip
    assert guessed["errors"][0]["code"] == "INVALID_PASSWORD"
    changed = await run(api, "web-opac", "ChangePassword", token,
                        currentPassword=temporary.group(1), newPassword="Kinoko82x")  # fmt: skip
    assert changed["errors"] == [] and changed["patron"]["passwordState"] == "ACTIVE"
    token = await api.login(patron.card_number, "Kinoko82x")  # 「すぐに利用することができます。」

    # 連絡方法: 「予約連絡方法を「メール」で選択し、メールアドレスを登録すると、予約連絡メールが
    # 送信されます。」 and 「返却期限が近づいた時に、メールでお知らせします。」
    prefs = await run(api, "web-opac", "UpdatePreferences", token, input={
        "contactMethod": "EMAIL", "email1": "hanako@example.jp", "currentPassword": "Kinoko82x",
        "dueReminder": True, "dueReminderDays": 2, "defaultPickupLibraryId": lib})  # fmt: skip
    assert prefs["errors"] == [], prefs

    # 資料検索 and 予約かご: 「予約かごには、予約したい資料を100件まで、ためておくことができます。」
    found = await run(api, "web-opac", "Search", query="長い物語", sort="RELEVANCE", first=10)
    assert {e["node"]["title"] for e in found["edges"]} >= {"長い物語 上", "長い物語 下"}
    entries = []
    for rec in (t["upper"], t["lower"]):
        added = await run(api, "web-opac", "AddToBasket", token, recordId=gid("Record", rec.id))
        entries.append(added["entry"]["id"])
    # 「電子書籍は「予約かご」には入りません。」
    ebook_in_basket = await run(api, "web-opac", "AddToBasket", token,
                                recordId=gid("Record", t["ebook"].id))  # fmt: skip
    assert "予約かご" in ebook_in_basket["errors"][0]["message"]

    # 「「予約内容確認」の画面が出るので、内容が正しければ「確認」をクリックしてください。」
    preview = await run(api, "web-opac", "PreviewHolds", token, basketEntryIds=entries)
    assert all(r["ok"] and r["hold"] is None for r in preview["results"])
    placed = await run(api, "web-opac", "PlaceHolds", token, basketEntryIds=entries)
    assert [r["hold"]["state"] for r in placed["results"]] == ["WAITING", "WAITING"]

    # 「下巻が先に用意できた場合は予約有効期限日にかかわらず、上巻が用意できるまでとりおきます。」
    # 「メール連絡は、予約資料が確保できた翌開館(開室)日に順次送付いたします。」
    seen = len(smtp.messages)
    await run(api, "staff-dashboard", "MarkPulled", desk, barcode=t["lower_copy"].barcode)
    assert workers.call(DISPATCH, now=jst(2026, 11, 30, 18))["sent"] == 0  # not the same day
    # Tuesday is closed: the mail goes on Wednesday, the next opening day.
    assert workers.call(DISPATCH, now=jst(2026, 12, 1, 12))["sent"] == 0
    workers.call(DISPATCH, now=jst(2026, 12, 2, 9))
    [(subj, body, msg)] = mails(smtp, seen)
    assert subj == "【茨木市立図書館】予約資料確保のお知らせ" and "長い物語 下" in body
    assert "とりおきます" in body and "取り消され" not in body and "中央図書館" in body
    assert msg["To"] == "hanako@example.jp"
    no_reply_footer(body)
    seen = len(smtp.messages)
    await run(
        api, "staff-dashboard", "CheckIn", desk, barcode=t["upper_copy"].barcode, libraryId=lib
    )
    workers.call(DISPATCH, now=jst(2026, 12, 2, 9, 5))
    [(_, body, _)] = mails(smtp, seen)
    assert "長い物語 上" in body and "予約有効期限日:2026年12月" in body

    # 受取: the clerk lends both ready volumes (LOAN-5).
    loans = []
    for copy in (t["upper_copy"], t["lower_copy"]):
        lent = await run(api, "staff-dashboard", "CheckOut", desk, barcode=copy.barcode,
                         libraryId=lib, cardNumber=patron.card_number)  # fmt: skip
        assert lent["errors"] == [] and lent["collectedHold"]["state"] == "COLLECTED"
        loans.append(lent["loan"])

    # 延長: 「延長期間は、手続きをした日から15日間…1回に限り延長ができます。」 On the day of the
    # checkout the date would not move (LOAN-6); three days later it does.
    same_day = await run(api, "web-opac", "RenewLoans", token, loanIds=[loans[1]["id"]])
    assert same_day["results"][0]["errors"][0]["code"] == "RENEWAL_NO_CHANGE"
    clock.advance(timedelta(days=3))
    token = await api.login(patron.card_number, "Kinoko82x")
    desk = await api.staff_login("desk", "staffpass1")
    renewed = await run(api, "web-opac", "RenewLoans", token, loanIds=[loans[1]["id"]])
    assert renewed["results"][0]["renewed"]

    # 返却期限日のお知らせ: the reminder says per loan whether 延長 is possible.
    upper_due = date.fromisoformat(loans[0]["dueOn"])
    lower_due = date.fromisoformat(renewed["results"][0]["loan"]["dueOn"])
    seen = len(smtp.messages)
    on = upper_due - timedelta(days=2)
    workers.call("hondana.mail.due_reminders", now=jst(on.year, on.month, on.day, 8))
    [(subj, body, _)] = mails(smtp, seen)
    assert subj == "【茨木市立図書館】返却期限日のお知らせ"
    assert re.search(r"長い物語 上.*\(延長できます\)", body)
    seen = len(smtp.messages)
    on = lower_due - timedelta(days=2)
    workers.call("hondana.mail.due_reminders", now=jst(on.year, on.month, on.day, 8))
    [(_, body, _)] = mails(smtp, seen)
    assert re.search(r"長い物語 下.*\(延長できません\)", body)

    # 返却期日が経過した資料のお知らせ: 「一定期間、返却期日を過ぎた資料をお持ちの方に…」
    seen = len(smtp.messages)
    on = lower_due + timedelta(days=8)
    workers.call("hondana.mail.overdue", now=jst(on.year, on.month, on.day, 8))
    [(subj, body, _)] = mails(smtp, seen)
    assert subj == "【茨木市立図書館】返却期日が経過した資料のお知らせ"
    assert "長い物語 上" in body and "長い物語 下" in body and "受取" in body
    for copy in (t["upper_copy"], t["lower_copy"]):
        await run(api, "staff-dashboard", "CheckIn", desk, barcode=copy.barcode, libraryId=lib)

    # 電子書籍: 「電子書籍の予約は1人3点までです。」「予約確保後、1週間取り置きます。」
    reader_token = await api.login(t["reader"].card_number, "yomu2468")
    lent = await run(api, "web-opac", "BorrowEbook", reader_token,
                     recordId=gid("Record", t["ebook"].id))  # fmt: skip
    held = await run(
        api, "web-opac", "PlaceEbookHold", token, recordId=gid("Record", t["ebook"].id)
    )
    assert held["hold"]["state"] == "WAITING"
    seen = len(smtp.messages)
    await run(api, "web-opac", "ReturnEbook", reader_token, loanId=lent["loan"]["id"])
    workers.call(DISPATCH, now=clock.now().isoformat())
    [(subj, body, _)] = mails(smtp, seen)
    assert subj == "【茨木市立図書館】電子書籍の予約確保のお知らせ"
    assert "1週間取り置きます" in body and "この日の終わりまで" in body
    ebook_loan = await run(api, "web-opac", "BorrowEbook", token,
                           recordId=gid("Record", t["ebook"].id))  # fmt: skip
    assert ebook_loan["errors"] == []

    # My本棚: 「「本棚」は5種類まで作れます。1つの本棚には、100冊まで入ります。」
    shelf = await run(api, "web-opac", "CreateBookshelf", token, name="お気に入り")
    kept = await run(api, "web-opac", "AddToBookshelf", token,
                     bookshelfId=shelf["bookshelf"]["id"], recordIds=[gid("Record", t["upper"].id)])  # fmt: skip
    assert [e["record"]["title"] for e in kept["bookshelf"]["entries"]] == ["長い物語 上"]

    # パスワードを忘れたときは: 「利用者番号と登録いただいているメールアドレスが必要です。」
    seen = len(smtp.messages)
    reset = await run(api, "web-opac", "RequestPasswordReset", cardNumber=patron.card_number,
                      email="hanako@example.jp")  # fmt: skip
    assert reset["accepted"] and "メールアドレス" in reset["message"]
    workers.call(DISPATCH, now=clock.now().isoformat())
    [(subj, body, _)] = mails(smtp, seen)
    assert subj == "【茨木市立図書館】仮パスワード再発行のお知らせ" and "再発行" in body
    no_reply_footer(body)
