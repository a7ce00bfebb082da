"""Accounts: the patron and staff types, login, logout and password change."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from models import Patron as PatronRow
from models import StaffUser as StaffRow
from policies.enums import PasswordState as PasswordStateValue
from policies.enums import StaffRole as StaffRoleValue
from resolvers.accounts import accounts, card
from resolvers.accounts.accounts import LoginResult
from resolvers.shared import privacy
from resolvers.shared.context import Context, PatronViewer, StaffViewer
from schema.accounts.card import DigitalCard
from schema.catalogue.libraries import Library, library_by_id
from schema.shared import ids
from schema.shared.enums import CardKind, ContactMethod, PasswordState, StaffRole
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import (
    ActivePassword,
    Authenticated,
    PersonalData,
    StaffOnly,
    guard,
    patron_viewer,
)

SESSION_COOKIE = "hondana_session"


@strawberry.type(description="What the weekly new-arrivals mail looks for (PREF-6).")
class NewArrivalFields:
    subject_classes: list[str] = strawberry.field(
        description="Classification prefixes, e.g. `913` (Japanese fiction in NDC)."
    )
    keywords: list[str] = strawberry.field(description="Words in the title, subjects or author.")
    authors: list[str] = strawberry.field(description="Author names.")


@strawberry.type(description="A library patron (card holder).")
class Patron:
    row: strawberry.Private[PatronRow]
    # The patron a `login` just authenticated: their own record, though the request came
    # in without a session (PersonalData lets them read it).
    own_login: strawberry.Private[bool] = False

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("Patron", self.row.id)

    @strawberry.field(description="Card number (利用者番号), the login id.")
    def card_number(self) -> str:
        return self.row.card_number

    @strawberry.field(description="Name.")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="Kind of card.")
    def card_kind(self) -> CardKind:  # type: ignore[valid-type]
        return self.row.card_kind

    @strawberry.field(description="Last day the card is valid (CARD-1).")
    def card_expires_on(self) -> date:
        return self.row.card_expires_on

    @strawberry.field(description="State of the web password.")
    def password_state(self) -> PasswordState:  # type: ignore[valid-type]
        return self.row.password_state

    @strawberry.field(
        description="True while the password is temporary: only `changePassword` works (AUTH-5)."
    )
    def must_change_password(self) -> bool:
        return self.row.password_state is PasswordStateValue.TEMPORARY

    @strawberry.field(
        description="First e-mail address (Email1).", extensions=guard(PersonalData())
    )
    def email1(self) -> str | None:
        return self.row.email1

    @strawberry.field(
        description="Second e-mail address (Email2).", extensions=guard(PersonalData())
    )
    def email2(self) -> str | None:
        return self.row.email2

    @strawberry.field(
        description="Why mail to Email1 fails for good (the server's reply), or null. Set by "
        "a permanent delivery failure; changing the address clears it.",
        extensions=guard(PersonalData()),
    )
    def email1_failure(self) -> str | None:
        return self.row.email1_failure

    @strawberry.field(
        description="Why mail to Email2 fails for good, or null.", extensions=guard(PersonalData())
    )
    def email2_failure(self) -> str | None:
        return self.row.email2_failure

    @strawberry.field(
        description="Due-date reminder mail wanted (PREF-5).", extensions=guard(PersonalData())
    )
    def due_reminder(self) -> bool:
        return self.row.due_reminder

    @strawberry.field(
        description="Days before the due date the reminder goes (null: the library's default).",
        extensions=guard(PersonalData()),
    )
    def due_reminder_days(self) -> int | None:
        return self.row.due_reminder_days

    @strawberry.field(
        description="Whether returned loans are kept as a reading history (off by default).",
        extensions=guard(PersonalData()),
    )
    def keep_reading_history(self) -> bool:
        return self.row.keep_reading_history

    @strawberry.field(
        description="New-arrival alert fields (PREF-6).", extensions=guard(PersonalData())
    )
    def new_arrival_fields(self) -> NewArrivalFields:
        raw = self.row.new_arrival_fields or {}
        return NewArrivalFields(
            subject_classes=list(raw.get("subject_classes", [])),
            keywords=list(raw.get("keywords", [])),
            authors=list(raw.get("authors", [])),
        )

    @strawberry.field(
        description="Reading of the name (フリガナ).", extensions=guard(PersonalData())
    )
    def name_kana(self) -> str | None:
        return self.row.name_kana

    @strawberry.field(description="Birth date.", extensions=guard(PersonalData()))
    def birth_date(self) -> date:
        return self.row.birth_date

    @strawberry.field(description="Postal address.", extensions=guard(PersonalData()))
    def address(self) -> str | None:
        return self.row.address

    @strawberry.field(
        description="Phone number, called when a hold is ready for a patron whose contact "
        "method is PHONE or whose mail bounced (STAFF-3).",
        extensions=guard(PersonalData()),
    )
    def phone(self) -> str | None:
        return self.row.phone

    @strawberry.field(
        description="A guardian consented to a web password for this pupil (AUTH-2).",
        extensions=guard(PersonalData()),
    )
    def guardian_consent(self) -> bool:
        return self.row.guardian_consent

    @strawberry.field(
        description="How holds are notified (PREF-1).", extensions=guard(PersonalData())
    )
    def contact_method(self) -> ContactMethod:  # type: ignore[valid-type]
        return self.row.contact_method

    @strawberry.field(
        description="Default pickup library (PREF-4).", extensions=guard(PersonalData())
    )
    async def default_pickup_library(self, info: Info[Context, Any]) -> Library | None:
        lib_id = self.row.default_pickup_library_id
        return await library_by_id(info, lib_id) if lib_id is not None else None


@strawberry.type(description="A staff account (separate from patrons, STAFF-1).")
class StaffUser:
    row: strawberry.Private[StaffRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("StaffUser", self.row.id)

    @strawberry.field(description="Login name.")
    def username(self) -> str:
        return self.row.username

    @strawberry.field(description="Name.")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="Roles held.")
    def roles(self) -> list[StaffRole]:  # type: ignore[valid-type]
        known = {r.value for r in StaffRoleValue}
        return [StaffRoleValue(r) for r in self.row.roles.split(",") if r in known]


@strawberry.enum(description="How the session token is handed over.")
class TokenDelivery(Enum):
    COOKIE = strawberry.enum_value(
        "COOKIE",
        description="Set as the HttpOnly `hondana_session` cookie (web). Later requests need "
        "the `X-Hondana-Client` header.",
    )
    BEARER = strawberry.enum_value(
        "BEARER",
        description="Returned as `accessToken`, sent back as `Authorization: Bearer` (app).",
    )


@strawberry.type(description="The result of `login`.")
class LoginPayload:
    patron: Patron | None = strawberry.field(description="The patron now logged in.")
    access_token: str | None = strawberry.field(
        description="The session token when `delivery` was `BEARER`; never for cookies."
    )
    must_change_password: bool = strawberry.field(
        description="The password is temporary: call `changePassword` next (AUTH-5)."
    )
    errors: list[UserError] = strawberry.field(
        description="`INVALID_CREDENTIALS` or `ACCOUNT_LOCKED` (with `retryAfter`)."
    )


@strawberry.type(description="The result of `staffLogin`.")
class StaffLoginPayload:
    staff: StaffUser | None = strawberry.field(description="The staff user now logged in.")
    access_token: str | None = strawberry.field(description="Token when `delivery` was `BEARER`.")
    errors: list[UserError] = strawberry.field(
        description="`INVALID_CREDENTIALS` or `ACCOUNT_LOCKED` (with `retryAfter`)."
    )


@strawberry.type(description="The result of `changePassword`.")
class ChangePasswordPayload:
    patron: Patron | None = strawberry.field(description="The patron, password now active.")
    access_token: str | None = strawberry.field(
        description="A new token replaces the old one (BEARER sessions); cookies are renewed."
    )
    errors: list[UserError] = strawberry.field(
        description="`WRONG_CURRENT_PASSWORD`, `INVALID_PASSWORD` (with `reason`), or "
        "`ACCOUNT_LOCKED`."
    )


@strawberry.type(description="The result of `logout`.")
class LogoutPayload:
    ok: bool = strawberry.field(description="Whether a session was ended.")


def _hand_over(
    info: Info[Context, Any], result: LoginResult, delivery: TokenDelivery
) -> str | None:
    """Set the cookie, or return the token for the app."""
    if result.token is None:
        return None
    if delivery is TokenDelivery.BEARER:
        return result.token
    response = info.context.response
    if response is not None:
        response.set_cookie(
            SESSION_COOKIE,
            result.token,
            max_age=info.context.policy.accounts.session_absolute_hours * 3600,
            httponly=True,
            samesite="lax",
            secure=info.context.services.secure_cookies,
            path="/",
        )
    return None


@strawberry.type
class AccountQueries:
    @strawberry.field(
        description="The patron logged in. Works with a temporary password, so the front end "
        "can see `mustChangePassword`.",
        extensions=guard(Authenticated()),
    )
    async def me(self, info: Info[Context, Any]) -> Patron:
        viewer = patron_viewer(info)
        row = await accounts.get_patron(info.context, viewer.patron_id)
        assert row is not None
        return Patron(row=row)

    @strawberry.field(
        description="A fresh digital-card code; needs an active password.",
        extensions=guard(Authenticated(), ActivePassword()),
    )
    def my_card(self, info: Info[Context, Any]) -> DigitalCard:
        issued = card.my_card(info.context, patron_viewer(info))
        return DigitalCard(
            card_number=issued.card_number, code=issued.code, expires_at=issued.expires_at
        )

    @strawberry.field(description="The staff user logged in.", extensions=guard(StaffOnly()))
    async def staff_me(self, info: Info[Context, Any]) -> StaffUser:
        viewer = info.context.viewer
        assert isinstance(viewer, StaffViewer)
        async with info.context.services.sessions() as db:
            row = await db.get(StaffRow, viewer.staff_id)
        assert row is not None
        return StaffUser(row=row)

    @strawberry.field(
        description="Staff: a patron by card number; `null` if none (STAFF-1).",
        extensions=guard(StaffOnly(StaffRoleValue.PATRONS, StaffRoleValue.COUNTER)),
    )
    async def patron(self, info: Info[Context, Any], card_number: str) -> Patron | None:
        row = await accounts.find_patron_by_card(info.context, card_number)
        if row is None:
            return None
        await privacy.audit(info.context, "patron", row.id)  # staff reads are audited
        return Patron(row=row)


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description="Log in with card number and password (AUTH-1). Five failures in 15 "
        "minutes lock the card for 15 minutes (AUTH-11)."
    )
    async def login(
        self,
        info: Info[Context, Any],
        card_number: str,
        password: str,
        delivery: TokenDelivery = TokenDelivery.COOKIE,
    ) -> LoginPayload:
        result = await accounts.login(info.context, card_number, password)
        patron = Patron(row=result.patron, own_login=True) if result.patron is not None else None
        return LoginPayload(
            patron=patron,
            access_token=_hand_over(info, result, delivery),
            must_change_password=bool(patron and patron.must_change_password()),
            errors=user_errors(result.errors, info.context.locale),
        )

    @strawberry.mutation(description="Staff log in with their own account (STAFF-1).")
    async def staff_login(
        self,
        info: Info[Context, Any],
        username: str,
        password: str,
        delivery: TokenDelivery = TokenDelivery.COOKIE,
    ) -> StaffLoginPayload:
        result = await accounts.staff_login(info.context, username, password)
        return StaffLoginPayload(
            staff=StaffUser(row=result.staff) if result.staff is not None else None,
            access_token=_hand_over(info, result, delivery),
            errors=user_errors(result.errors, info.context.locale),
        )

    @strawberry.mutation(description="End the current session (and clear the cookie).")
    async def logout(self, info: Info[Context, Any]) -> LogoutPayload:
        ok = await accounts.logout(info.context)
        if info.context.response is not None:
            info.context.response.delete_cookie(SESSION_COOKIE, path="/")
        return LogoutPayload(ok=ok)

    @strawberry.mutation(
        description="Change the password (AUTH-7): 6-10 letters or digits, hard to guess "
        "(AUTH-6). Allowed with a temporary password (AUTH-5); makes it active and ends every "
        "other session.",
        extensions=guard(Authenticated()),
    )
    async def change_password(
        self,
        info: Info[Context, Any],
        current_password: str,
        new_password: str,
        delivery: TokenDelivery = TokenDelivery.COOKIE,
    ) -> ChangePasswordPayload:
        viewer: PatronViewer = patron_viewer(info)
        result = await accounts.change_password(
            info.context, viewer, current_password, new_password
        )
        return ChangePasswordPayload(
            patron=Patron(row=result.patron) if result.patron is not None else None,
            access_token=_hand_over(info, result, delivery),
            errors=user_errors(result.errors, info.context.locale),
        )
