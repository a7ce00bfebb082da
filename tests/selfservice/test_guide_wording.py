"""The patron's words on passwords as the library's guide states them (AUTH-3, AUTH-8,
MAIL-6): a first temporary password is not a re-issue, each answer names what it compared,
and a refusal never reads as accepted."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from models import OutboxMessage
from policies.clock import FixedClock
from tests.selfservice.test_passwords import APPLY, RESET
from tests.support import Api, Factory
from workers.compose import render

CHANGE = """mutation($old: String!, $new: String!) {
  changePassword(currentPassword: $old, newPassword: $new, delivery: BEARER) {
    errors { code reason message } } }"""


async def _rendered(api: Api) -> list[tuple[str, str]]:
    async with api.app.state.services.sessions() as db:
        rows = (await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return [
            render(m.kind, {"name": "茨木 花子", "p": m.payload, "library": "図書館"}) for m in rows
        ]


async def test_first_temporary_password_mail_is_not_a_reissue(
    api: Api, factory: Factory, clock: FixedClock
) -> None:
    """AUTH-3 / MAIL-6: 「申請された方には、仮パスワードを発行します。」 is the first issue;
    only 「パスワードを忘れたときは、再度申請が必要です。」 leads to a 再発行."""
    # AUTH-3: the temporary password goes only to an address the library holds.
    patron = await factory.patron(None, birth_date=date(2000, 6, 1), email1="p@example.jp")
    await api.gql(APPLY, {"c": patron.card_number, "b": "2000-06-01", "e": "p@example.jp"})
    [(subject, body)] = await _rendered(api)
    assert "再発行" not in subject + body
    assert "仮パスワード発行のお知らせ" in subject
    clock.advance(timedelta(minutes=5))  # a later request: its own mail
    reset = await api.gql(RESET, {"c": patron.card_number, "e": "p@example.jp"})
    assert reset["data"]["requestPasswordReset"]["errors"] == [], reset
    subject, body = (await _rendered(api))[1]
    assert "仮パスワード再発行のお知らせ" in subject and "再発行" in body


async def test_application_answer_names_the_birth_date(api: Api, factory: Factory) -> None:
    """AUTH-3: the web application compares card number and birth date (the guide: 「webからの
    登録は、パスワード新規発行のページから申請をしてください。(中学生以上)」), so its answer
    speaks of the birth date, not of the registered address (which is the reset's,
    「利用者番号と登録いただいているメールアドレスが必要です。」)."""
    patron = await factory.patron(None, birth_date=date(2000, 6, 1))
    variables = {"c": patron.card_number, "b": "2000-06-01", "e": "p@example.jp"}
    answer = (await api.gql(APPLY, variables))["data"]["applyForPassword"]
    assert answer["accepted"] is True
    assert "生年月日" in answer["message"] and "メールアドレスが登録内容" not in answer["message"]
    english = await api.gql(APPLY, variables, headers={"Accept-Language": "en"})
    assert "birth date" in english["data"]["applyForPassword"]["message"]
    reset = (await api.gql(RESET, {"c": patron.card_number, "e": "p@example.jp"}))["data"]
    assert "メールアドレス" in reset["requestPasswordReset"]["message"]


async def test_counter_only_answer_does_not_say_received(api: Api, factory: Factory) -> None:
    """AUTH-3: younger applicants go to the counter (「図書館での登録は、「パスワード申込書」に
    記入し、利用カードと本人確認ができるもの(運転免許証、健康保険資格確認証、学生証など)を窓口に
    提示してください。」): the answer says so and never 「受け付けました」 beside accepted: false."""
    child = await factory.patron(None, birth_date=date(2016, 6, 1))
    answer = (
        await api.gql(APPLY, {"c": child.card_number, "b": "2016-06-01", "e": "c@example.jp"})
    )["data"]["applyForPassword"]
    assert answer["accepted"] is False
    assert answer["errors"] == [{"code": "COUNTER_ONLY", "rule": "AUTH-3"}]
    assert "受け付けました" not in answer["message"]
    assert "窓口" in answer["message"] and "利用カード" in answer["message"]


async def test_guessable_passwords_are_refused_with_the_reason(api: Api, factory: Factory) -> None:
    """AUTH-6: 「第3者が推測できそうなパスワードは避けてください。」 A common password, the card
    number, the birth date and the name reading are refused with INVALID_PASSWORD and the
    reason, in words the patron understands."""
    patron = await factory.patron(
        "yomu2468", birth_date=date(1990, 5, 17), name_kana="ヤマダ ハナコ"
    )
    token = await api.login(patron.card_number, "yomu2468")
    cases = {
        "qwerty12": "COMMON",
        patron.card_number: "CARD_NUMBER",
        "19900517": "BIRTH_DATE",
        "hanako12": "PERSONAL_DATA",
    }
    for new, reason in cases.items():
        body = await api.gql(CHANGE, {"old": "yomu2468", "new": new}, token=token)
        [error] = body["data"]["changePassword"]["errors"]
        assert (error["code"], error["reason"]) == ("INVALID_PASSWORD", reason), new
        assert "このパスワードは使えません" in error["message"]
    ok = await api.gql(CHANGE, {"old": "yomu2468", "new": "Kinoko82x"}, token=token)
    assert ok["data"]["changePassword"]["errors"] == []
