"""Hold and loan mails as the library's guide words them (MAIL-1, MAIL-2, HOLD-9)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import OutboxMessage
from policies.cards import check_hold_blocks, check_may_collect_holds
from policies.config import CirculationPolicy
from policies.enums import ContactMethod, CopyStatus, MaterialType, StaffRole
from policies.errors import ErrorCode, RuleViolation
from schema.shared.messages import message
from tests.circulation.ops import CHECK_IN, PULLED, gid, hold_for
from tests.support import Api, Factory
from workers.compose import render


async def _mail_texts(api: Api, kind: str) -> list[str]:
    async with api.app.state.services.sessions() as db:
        rows = (
            await db.execute(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        ).scalars()
        rendered = [
            render(m.kind, {"name": "利用者", "p": m.payload, "library": "図書館"}) for m in rows
        ]
    return [subject + "\n" + body for subject, body in rendered]


async def test_later_volume_mail_does_not_promise_cancellation(api: Api, factory: Factory) -> None:
    """HOLD-9 / MAIL-1: 「上・中・下巻の図書も確保された順にメールで連絡されます。下巻が先に
    用意できた場合は予約有効期限日にかかわらず、上巻が用意できるまでとりおきます。(コミックを
    除く。)」 The 下 mail says it is kept; the 上 mail, once ready, states its deadline."""
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    desk = await api.staff_login("desk", "staffpass1")
    central = await factory.library("CEN")
    patron = await factory.patron(
        "yomu2468", email1="h@example.jp", contact_method=ContactMethod.EMAIL
    )
    patron_token = await api.login(patron.card_number, "yomu2468")
    upper = await factory.record("長い物語 上", series="長い物語", volume="上")
    lower = await factory.record("長い物語 下", series="長い物語", volume="下")
    upper_copy = await factory.copy(upper, central, status=CopyStatus.ON_LOAN)
    lower_copy = await factory.copy(lower, central)
    for rec in (upper, lower):
        await hold_for(api, patron_token, rec.id, central.id)
    await api.gql(PULLED, {"b": lower_copy.barcode}, token=desk)
    [lower_mail] = await _mail_texts(api, "hold_ready")
    assert "(下)" in lower_mail
    assert "取り消され" not in lower_mail
    assert "予約有効期限日にかかわらず" in lower_mail and "とりおきます" in lower_mail
    await api.gql(CHECK_IN, {"b": upper_copy.barcode, "l": gid("Library", central.id)}, token=desk)
    upper_mail = (await _mail_texts(api, "hold_ready"))[1]
    assert "(上)" in upper_mail and "予約有効期限日:20" in upper_mail


async def test_ebook_in_the_basket_says_to_borrow_or_hold_directly(
    api: Api, factory: Factory
) -> None:
    """BASKET-3: 「電子書籍は「予約かご」には入りません。」 An eligible patron is told how to
    get the e-book, not that e-books are closed to them (電子書籍はご利用になれません)."""
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    ebook = await factory.record("電子の本", material_type=MaterialType.EBOOK)
    add = "mutation($r: ID!) { addToBasket(recordId: $r) { errors { code rule message } } }"
    [error] = (await api.gql(add, {"r": gid("Record", ebook.id)}, token=token))["data"][
        "addToBasket"
    ]["errors"]
    assert (error["code"], error["rule"]) == ("EBOOK_NOT_ALLOWED", "BASKET-3")
    assert "ご利用になれません" not in error["message"]
    assert "予約かご" in error["message"] and "直接" in error["message"]


async def test_messages_in_the_guides_words() -> None:
    """The guide's words for three refusals: 「自分が借りている資料に予約をかけることはできません。」
    (who has it: you), 「ログイン後、15分間入力がない場合は、自動的にログオフされます。」 (minutes,
    not seconds), and 「資料をお返しいただくまで、予約の受付・受取はできません。」 (a block at
    collection speaks of collecting, not of placing holds)."""
    on_loan = message(ErrorCode.ALREADY_ON_LOAN, "ja")
    assert "借りている" in on_loan and ("あなた" in on_loan or "ご自身" in on_loan)
    collect = message(ErrorCode.OVERDUE_BLOCK, "ja", {"variant": "COLLECT"})
    assert "予約できません" not in collect and "受取" in collect
    assert "collected" in message(ErrorCode.OVERDUE_BLOCK, "en", {"variant": "COLLECT"})
    # The same CARD-3 when placing holds speaks of placing them; when lending, of 受取.
    late = [date(2026, 11, 1)]
    for check, word in (
        (lambda: check_hold_blocks(late, date(2026, 11, 30), CirculationPolicy()), "予約"),
        (lambda: check_may_collect_holds(late, date(2026, 11, 30), CirculationPolicy()), "受取"),
    ):
        with pytest.raises(RuleViolation) as refused:
            check()
        assert word in message(refused.value.code, "ja", refused.value.params)
    expired = message(ErrorCode.SESSION_EXPIRED, "ja", {"idle_minutes": 15})
    assert "15分" in expired and "秒" not in expired


async def test_lockout_wait_in_minutes() -> None:
    """AUTH-11 in the guide's units: 「15分間入力がない場合は」 counts in minutes, so a 15-minute
    lock reads 15分 (not 900秒), in English 15 minutes."""
    locked = message(ErrorCode.ACCOUNT_LOCKED, "ja", {"retry_after": 900})
    assert "15分後" in locked and "900" not in locked
    assert "15 minutes" in message(ErrorCode.ACCOUNT_LOCKED, "en", {"retry_after": 900})
    assert "30秒後" in message(ErrorCode.RATE_LIMITED, "ja", {"retry_after": 30})


PATRON_REFUSALS = [
    ErrorCode.TEMPORARY_PASSWORD, ErrorCode.INVALID_PASSWORD, ErrorCode.COUNTER_ONLY,
    ErrorCode.CARD_EXPIRED, ErrorCode.OVERDUE_BLOCK, ErrorCode.EMAIL_REQUIRED,
    ErrorCode.SHELF_LIMIT, ErrorCode.SHELF_FULL, ErrorCode.NAME_TAKEN, ErrorCode.BASKET_FULL,
    ErrorCode.HOLD_LIMIT, ErrorCode.ALREADY_HELD, ErrorCode.ALREADY_ON_LOAN,
    ErrorCode.HOLD_NOT_MODIFIABLE, ErrorCode.INVALID_PICKUP_LIBRARY, ErrorCode.HELD_BY_OTHERS,
    ErrorCode.OVERDUE, ErrorCode.RENEWAL_LIMIT, ErrorCode.RENEWAL_NO_CHANGE,
    ErrorCode.BOOKMOBILE, ErrorCode.ART_REPRODUCTION, ErrorCode.INTER_LIBRARY,
    ErrorCode.EBOOK_LOAN_LIMIT, ErrorCode.EBOOK_HOLD_LIMIT, ErrorCode.EBOOK_UNAVAILABLE,
    ErrorCode.EBOOK_AVAILABLE, ErrorCode.SESSION_EXPIRED, ErrorCode.ACCOUNT_LOCKED,
]  # fmt: skip
NEXT_STEP = ("ください", "お願いします", "できます", "受け取れる", "できるように")


async def test_every_patron_refusal_says_what_to_do_next() -> None:
    """The review of issue [R2 5/9]: each refusal a patron meets is polite and says what
    the patron can do next, in the guide's terms (「状態が「確保待ち」の資料は変更・取り消しが
    できますが、「貸出可能」「回送中」と表示されている場合は、予約の変更・取り消しができません。
    その場合は、図書館まで電話してください。」), with an English message beside it."""
    for code in PATRON_REFUSALS:
        ja, en = message(code, "ja"), message(code, "en")
        assert any(step in ja for step in NEXT_STEP), code
        assert ja.endswith("。") and en and en != ja, code
    not_modifiable = message(ErrorCode.HOLD_NOT_MODIFIABLE, "ja")
    assert all(term in not_modifiable for term in ("確保待ち", "貸出可能", "回送中", "電話"))
