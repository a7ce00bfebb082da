"""Hold and loan mails as the library's guide words them (MAIL-1, MAIL-2, HOLD-9)."""

from __future__ import annotations

from sqlalchemy import select

from models import OutboxMessage
from policies.enums import ContactMethod, CopyStatus, StaffRole
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
