"""Password applications and resets (AUTH-2, AUTH-3, AUTH-4, AUTH-8, AUTH-9)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from policies.enums import StaffRole as Role
from policies.errors import RuleViolation
from resolvers.accounts import password_issue
from resolvers.shared.context import Context
from schema.accounts.accounts import Patron
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import StaffOnly, guard

PATRON_DESK = guard(StaffOnly(Role.PATRONS))
# The same words whether or not the details matched (no account enumeration); each names
# the details that are compared: the address for a reset (AUTH-8), the birth date for a
# first application (AUTH-3), whose answer also covers a card with no address on file
# (a staff application: the password is handed over at the counter).
RESET_ANSWER = (
    "受け付けました。利用者番号とメールアドレスが登録内容と一致した場合、仮パスワードを"
    "メールでお送りします。メールアドレスを登録していない方は、図書館の窓口でお手続きください。",
    "Received. If the card number and the address match our records, a temporary password "
    "is on its way by mail. Without a registered address, please ask at the counter.",
)
APPLICATION_ANSWER = (
    "受け付けました。利用者番号と生年月日が登録内容と一致した場合、登録いただいている"
    "メールアドレスに仮パスワードをお送りします。メールアドレスを登録していない方には、図書館の"
    "窓口で仮パスワードをお渡しします。利用カードと本人確認ができるもの(運転免許証、"
    "健康保険資格確認証、学生証など)をお持ちのうえ、窓口へお越しください。メールが届かない"
    "場合も、窓口でお申し込みいただけます。",
    "Received. If the card number and the birth date match our records, a temporary "
    "password is on its way to the address we hold for you. Without an address on file, the "
    "temporary password is handed over at the library counter: please come with your card "
    "and proof of identity. If no mail arrives, you can also apply at the counter.",
)


@strawberry.type(
    description="The answer to an anonymous password request: always the same shape and "
    "words whether or not the details matched (no account enumeration)."
)
class PasswordRequestPayload:
    accepted: bool = strawberry.field(description="True unless `errors` says otherwise.")
    message: str = strawberry.field(description="What happens next, for the applicant.")
    errors: list[UserError] = strawberry.field(
        description="`RATE_LIMITED` (with `retryAfter`), `COUNTER_ONLY` (AUTH-3), `INVALID_EMAIL`."
    )


@strawberry.type(description="A password issued at the counter.")
class IssuePasswordPayload:
    patron: Patron | None = strawberry.field(description="The patron, password now temporary.")
    temporary_password: str | None = strawberry.field(
        description="Shown once, to hand to the patron; it must be changed at first login."
    )
    errors: list[UserError] = strawberry.field(
        description="`NOT_FOUND`, `TOO_YOUNG`, `GUARDIAN_CONSENT_REQUIRED` (AUTH-2)."
    )


@strawberry.type(description="The result of `invalidatePassword`.")
class InvalidatePasswordPayload:
    patron: Patron | None = strawberry.field(description="The patron after the change.")
    errors: list[UserError] = strawberry.field(description="`NOT_FOUND`.")


def _answer(
    info: Info[Context, Any], answer: tuple[str, str], errors: list[RuleViolation]
) -> PasswordRequestPayload:
    """Accepted: the same words for everyone. Refused: the refusal's own words, never
    「受け付けました」 beside ``accepted: false``."""
    locale = info.context.locale
    shown = user_errors(errors, locale)
    default = answer[1] if locale == "en" else answer[0]
    text = shown[0].message if shown else default
    return PasswordRequestPayload(accepted=not errors, message=text, errors=shown)


@strawberry.type
class PasswordMutations:
    @strawberry.mutation(
        description="Forgotten password (AUTH-8): card number + a registered e-mail address "
        "re-issue a temporary password by mail. The answer is the same whether or not they "
        "matched."
    )
    async def request_password_reset(
        self, info: Info[Context, Any], card_number: str, email: str
    ) -> PasswordRequestPayload:
        try:
            await password_issue.request_reset(info.context, card_number, email)
        except RuleViolation as no:
            return _answer(info, RESET_ANSWER, [no])
        return _answer(info, RESET_ANSWER, [])

    @strawberry.mutation(
        description="Apply on the web for a first password (AUTH-3, middle-school age and "
        "older): card number, birth date and an e-mail address the library already holds for "
        "the card; the temporary password is mailed only to such an address, and the typed "
        "address is never stored. Without an address on file the application goes to staff "
        "(`applications`, kind `PASSWORD_ISSUE`) and the password is handed over at the "
        "counter. The answer is the same whether or not anything matched."
    )
    async def apply_for_password(
        self, info: Info[Context, Any], card_number: str, birth_date: date, email: str
    ) -> PasswordRequestPayload:
        try:
            await password_issue.apply_on_web(info.context, card_number, birth_date, email)
        except RuleViolation as no:
            return _answer(info, APPLICATION_ANSWER, [no])
        return _answer(info, APPLICATION_ANSWER, [])

    @strawberry.mutation(
        description="Staff: issue a temporary password at the counter (AUTH-2), for pupils "
        "with a guardian's consent, or on a proxy application (AUTH-4).",
        extensions=PATRON_DESK,
    )
    async def issue_password(
        self,
        info: Info[Context, Any],
        card_number: str,
        guardian_consent: bool = False,
        proxy: bool = False,
    ) -> IssuePasswordPayload:
        try:
            issued = await password_issue.issue_at_counter(
                info.context, card_number, guardian_consent=guardian_consent, proxy=proxy
            )
        except RuleViolation as no:
            errors = user_errors([no], info.context.locale)
            return IssuePasswordPayload(patron=None, temporary_password=None, errors=errors)
        return IssuePasswordPayload(
            patron=Patron(row=issued.patron),
            temporary_password=issued.temporary_password,
            errors=[],
        )

    @strawberry.mutation(
        description="Staff: invalidate a password, or record that the patron left the city "
        "(`leftCity`: the card ends too) (AUTH-9). Every session of the patron ends.",
        extensions=PATRON_DESK,
    )
    async def invalidate_password(
        self, info: Info[Context, Any], card_number: str, left_city: bool = False
    ) -> InvalidatePasswordPayload:
        try:
            row = await password_issue.invalidate(info.context, card_number, left_city=left_city)
        except RuleViolation as no:
            return InvalidatePasswordPayload(
                patron=None, errors=user_errors([no], info.context.locale)
            )
        return InvalidatePasswordPayload(patron=Patron(row=row), errors=[])
