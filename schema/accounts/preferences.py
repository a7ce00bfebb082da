"""The patron's settings (PREF-1..6)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from policies.errors import ErrorCode as Code
from policies.errors import RuleViolation
from resolvers.accounts import preferences
from resolvers.accounts.preferences import UNCHANGED, PreferenceChange
from resolvers.shared.context import Context
from schema.accounts.accounts import Patron
from schema.circulation.holds import PATRON
from schema.shared import ids
from schema.shared.enums import ContactMethod
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import patron_viewer


@strawberry.input(description="New-arrival fields; each list given replaces the old one.")
class NewArrivalFieldsInput:
    subject_classes: list[str] | None = strawberry.field(default=None, description="Up to 10.")
    keywords: list[str] | None = strawberry.field(default=None, description="Up to 10.")
    authors: list[str] | None = strawberry.field(default=None, description="Up to 10.")


@strawberry.input(
    description="What to change. Leave a field out to keep it; `null` clears an address."
)
class PreferencesInput:
    email1: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Email1; mobile carriers' addresses are accepted (PREF-2).",
    )
    email2: str | None = strawberry.field(default=strawberry.UNSET, description="Email2.")
    current_password: str | None = strawberry.field(
        default=None, description="Needed when an address changes."
    )
    contact_method: ContactMethod | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="PHONE, EMAIL (needs an address, PREF-3) or NONE."
    )
    default_pickup_library_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Default pickup library (PREF-4)."
    )
    due_reminder: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Due-date reminder mail on or off (PREF-5)."
    )
    due_reminder_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 14 days before; null: the default (2)."
    )
    keep_reading_history: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Keep returned loans as a reading history; `false` erases it.",
    )
    new_arrival_fields: NewArrivalFieldsInput | None = strawberry.field(
        default=None, description="New-arrival alert fields (PREF-6)."
    )


@strawberry.type(description="The result of `updatePreferences`.")
class PreferencesPayload:
    patron: Patron | None = strawberry.field(description="The patron after the change.")
    errors: list[UserError] = strawberry.field(
        description="`INVALID_EMAIL`, `EMAIL_REQUIRED`, `WRONG_CURRENT_PASSWORD`, "
        "`INVALID_PICKUP_LIBRARY`, `INVALID_INPUT`; when present nothing changed."
    )


def _given(value: object) -> object:
    return UNCHANGED if value is strawberry.UNSET else value


@strawberry.type
class PreferenceMutations:
    @strawberry.mutation(
        description="Change the patron's settings (PREF-1..6); needs an active password.",
        extensions=PATRON,
    )
    async def update_preferences(
        self,
        info: Info[Context, Any],
        input: PreferencesInput,
    ) -> PreferencesPayload:
        fields: dict[str, object] = {}
        if input.new_arrival_fields is not None:
            nf = input.new_arrival_fields
            fields = {
                k: v
                for k, v in (
                    ("subject_classes", nf.subject_classes),
                    ("keywords", nf.keywords),
                    ("authors", nf.authors),
                )
                if v is not None
            }
        pickup: object = _given(input.default_pickup_library_id)
        if pickup is not UNCHANGED:
            pickup = ids.decode("Library", str(pickup)) if pickup is not None else 0
        change = PreferenceChange(
            email1=_given(input.email1),
            email2=_given(input.email2),
            current_password=input.current_password,
            contact_method=_given(input.contact_method),
            default_pickup_library_id=pickup if pickup is not None else 0,
            due_reminder=_given(input.due_reminder),
            due_reminder_days=_given(input.due_reminder_days),
            keep_reading_history=_given(input.keep_reading_history),
            new_arrival_fields=fields,
        )
        try:
            if None in (change.contact_method, change.due_reminder, change.keep_reading_history):
                raise RuleViolation(Code.INVALID_INPUT, field="contactMethod")
            row = await preferences.update(info.context, patron_viewer(info), change)
        except RuleViolation as no:
            return PreferencesPayload(patron=None, errors=user_errors([no], info.context.locale))
        return PreferencesPayload(patron=Patron(row=row), errors=[])
