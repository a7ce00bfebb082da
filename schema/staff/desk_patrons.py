"""Patrons registered, corrected and renewed by staff (STAFF-1, STAFF-3, CARD-1)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from models import Patron as PatronRow
from policies.desk import PatronDetails
from policies.enums import CardKind as CardKindValue
from policies.enums import ContactMethod as ContactMethodValue
from policies.enums import StaffRole as Role
from policies.errors import RuleViolation
from resolvers.shared.context import Context
from resolvers.staff import desk_patrons
from resolvers.staff.desk_holds import patron_of
from schema.accounts.accounts import Patron
from schema.shared.enums import CardKind, ContactMethod
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import StaffOnly, guard

PATRONS = guard(StaffOnly(Role.PATRONS))


@strawberry.input(description="A patron's registered details, as staff type them.")
class PatronInput:
    name: str = strawberry.field(description="Name (氏名), at most 100 characters.")
    name_kana: str | None = strawberry.field(default=None, description="Reading (フリガナ).")
    birth_date: date = strawberry.field(description="Birth date.")
    address: str | None = strawberry.field(default=None, description="Address, at most 200.")
    phone: str | None = strawberry.field(
        default=None, description="Phone number: digits, spaces, hyphens, brackets, a leading +."
    )
    email: str | None = strawberry.field(default=None, description="E-mail address (Email1).")
    guardian_consent: bool = strawberry.field(
        default=False, description="A guardian consented to a web password (AUTH-2)."
    )
    contact_method: ContactMethod = strawberry.field(  # type: ignore[valid-type]
        default=ContactMethodValue.NONE,
        description="How holds are notified: EMAIL needs an e-mail, PHONE a phone number.",
    )

    def details(self) -> PatronDetails:
        return PatronDetails(
            name=self.name,
            name_kana=self.name_kana,
            birth_date=self.birth_date,
            address=self.address,
            phone=self.phone,
            email=self.email,
            guardian_consent=self.guardian_consent,
            contact_method=ContactMethodValue(self.contact_method),
        )


@strawberry.type(description="The result of a change to a patron's registration.")
class PatronPayload:
    patron: Patron | None = strawberry.field(description="The patron after the change.")
    errors: list[UserError] = strawberry.field(
        description="`INVALID_INPUT` (naming the field), `INVALID_EMAIL`, `EMAIL_REQUIRED`, "
        "`CARD_NUMBER_TAKEN`, `NOT_FOUND`."
    )


def _payload(info: Info[Context, Any], row: PatronRow | RuleViolation) -> PatronPayload:
    if isinstance(row, RuleViolation):
        return PatronPayload(patron=None, errors=user_errors([row], info.context.locale))
    return PatronPayload(patron=Patron(row=row), errors=[])


@strawberry.type
class DeskPatronMutations:
    @strawberry.mutation(
        description="Staff: register a patron and issue a card (STAFF-1). `cardNumber` is the "
        "number on the card handed over (a fresh one if omitted); the card is valid for the "
        "library's years unless `cardExpiresOn` is earlier. Issue the temporary password "
        "with `issuePassword`. Audited.",
        extensions=PATRONS,
    )
    async def register_patron(
        self,
        info: Info[Context, Any],
        details: PatronInput,
        card_kind: CardKind = CardKindValue.CITY,  # type: ignore[valid-type]
        card_number: str | None = None,
        card_expires_on: date | None = None,
    ) -> PatronPayload:
        try:
            row = await desk_patrons.register(
                info.context,
                details.details(),
                CardKindValue(card_kind),
                card_number,
                card_expires_on,
            )
        except RuleViolation as no:
            return _payload(info, no)
        return _payload(info, row)

    @strawberry.mutation(
        description="Staff: correct a patron's registered details (all of them are sent). Audited.",
        extensions=PATRONS,
    )
    async def update_patron(
        self, info: Info[Context, Any], card_number: str, details: PatronInput
    ) -> PatronPayload:
        try:
            patron = await patron_of(info.context, card_number)
            row = await desk_patrons.update(info.context, patron.id, details.details())
        except RuleViolation as no:
            return _payload(info, no)
        return _payload(info, row)

    @strawberry.mutation(
        description="Staff: renew a patron's card at the counter (CARD-1): valid for the "
        "library's years from today, or from its expiry while still valid. Audited.",
        extensions=PATRONS,
    )
    async def renew_card(self, info: Info[Context, Any], card_number: str) -> PatronPayload:
        try:
            patron = await patron_of(info.context, card_number)
            row = await desk_patrons.renew_card(info.context, patron.id)
        except RuleViolation as no:
            return _payload(info, no)
        return _payload(info, row)
