"""Web applications (APP-1), the web password applications handed to staff (AUTH-3), and
the staff queue that decides them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from models import Application as ApplicationRow
from policies import enums
from policies.enums import StaffRole as Role
from policies.errors import RuleViolation
from resolvers.accounts import applications
from resolvers.shared.context import Context, StaffViewer
from schema.shared import ids
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import StaffOnly, guard

ApplicationKind = strawberry.enum(
    enums.ApplicationKind,
    description="What is applied for. `PASSWORD_ISSUE`: a web password application with no "
    "address on file (AUTH-3), handed over at the counter; `submitApplication` refuses it.",
)
ApplicationState = strawberry.enum(
    enums.ApplicationState, description="PENDING, APPROVED, REJECTED."
)
DESK = guard(StaffOnly(Role.PATRONS))


@strawberry.input(description="A web application (APP-1).")
class ApplicationInput:
    kind: ApplicationKind = strawberry.field(description="What is applied for.")  # type: ignore[valid-type]
    name: str = strawberry.field(description="The applicant's name.")
    birth_date: date = strawberry.field(description="The applicant's birth date.")
    email: str = strawberry.field(description="Where the result is mailed.")
    card_number: str | None = strawberry.field(
        default=None, description="Needed for re-issue, change of details and renewal."
    )
    details: str | None = strawberry.field(
        default=None, description="Address, what changed, anything staff should know (≤1000)."
    )


@strawberry.type(description="A web application as staff see it.")
class Application:
    row: strawberry.Private[ApplicationRow]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("Application", self.row.id)

    @strawberry.field(description="What is applied for.")
    def kind(self) -> ApplicationKind:  # type: ignore[valid-type]
        return self.row.kind

    @strawberry.field(description="Where it stands.")
    def state(self) -> ApplicationState:  # type: ignore[valid-type]
        return self.row.state

    @strawberry.field(description="The applicant's name.")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="The applicant's birth date.")
    def birth_date(self) -> date:
        return self.row.birth_date

    @strawberry.field(
        description="Where the result is mailed; null for `PASSWORD_ISSUE` (AUTH-3), which "
        "keeps no address and is answered at the counter."
    )
    def email(self) -> str | None:
        return self.row.email

    @strawberry.field(description="The card number given, if any.")
    def card_number(self) -> str | None:
        return self.row.card_number

    @strawberry.field(description="Whether card number and birth date matched a patron.")
    def matched_patron(self) -> bool:
        return self.row.patron_id is not None

    @strawberry.field(description="Free text from the applicant.")
    def details(self) -> str | None:
        return self.row.details

    @strawberry.field(description="When it was submitted.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="The staff's note to the applicant.")
    def decision_note(self) -> str | None:
        return self.row.decision_note


@strawberry.type(description="The answer to `submitApplication`.")
class SubmitApplicationPayload:
    accepted: bool = strawberry.field(description="Whether it was queued for staff.")
    errors: list[UserError] = strawberry.field(
        description="`INVALID_INPUT` (with `field`), `INVALID_EMAIL`, `RATE_LIMITED`."
    )


@strawberry.type(description="The result of `decideApplication`.")
class DecideApplicationPayload:
    application: Application | None = strawberry.field(description="The decided application.")
    temporary_password: str | None = strawberry.field(
        default=None,
        description="An approved `PASSWORD_ISSUE` (AUTH-3): the temporary password, shown "
        "once, to hand to the patron at the counter; it must be changed at first login "
        "(AUTH-5). Null otherwise.",
    )
    errors: list[UserError] = strawberry.field(
        description="`NOT_FOUND` (application, or the patron to act on), `ALREADY_DECIDED`; "
        "approving a `PASSWORD_ISSUE`: `PASSWORD_ALREADY_ISSUED`, `PASSWORD_INVALIDATED` "
        "(AUTH-9), `TOO_YOUNG`, `GUARDIAN_CONSENT_REQUIRED` (AUTH-2)."
    )


@strawberry.type
class ApplicationQueries:
    @strawberry.field(description="Staff: the applications queue, oldest first.", extensions=DESK)
    async def applications(
        self,
        info: Info[Context, Any],
        state: ApplicationState = enums.ApplicationState.PENDING,  # type: ignore[valid-type]
    ) -> list[Application]:
        return [Application(row=r) for r in await applications.queue(info.context, state)]


@strawberry.type
class ApplicationMutations:
    @strawberry.mutation(
        description="Apply on the web (APP-1): new registration, card re-issue, change of "
        "registered details, card renewal or card-number notice. Staff decide; the result "
        "comes by mail. (`PASSWORD_ISSUE` is refused: `applyForPassword` files it.)"
    )
    async def submit_application(
        self,
        info: Info[Context, Any],
        input: ApplicationInput,
    ) -> SubmitApplicationPayload:
        sub = applications.Submission(
            kind=input.kind,
            name=input.name,
            birth_date=input.birth_date,
            email=input.email,
            card_number=input.card_number,
            details=input.details,
        )
        try:
            await applications.submit(info.context, sub)
        except RuleViolation as no:
            return SubmitApplicationPayload(
                accepted=False, errors=user_errors([no], info.context.locale)
            )
        return SubmitApplicationPayload(accepted=True, errors=[])

    @strawberry.mutation(
        description="Staff: approve (doing what was asked) or reject an application; the "
        "applicant is told by mail. `cardNumber` names the patron staff identified. "
        "Approving a `PASSWORD_ISSUE` (AUTH-3) issues its card's temporary password at the "
        "counter (`temporaryPassword`); it mails nobody.",
        extensions=DESK,
    )
    async def decide_application(
        self,
        info: Info[Context, Any],
        application_id: strawberry.ID,
        approve: bool,
        note: str | None = None,
        card_number: str | None = None,
    ) -> DecideApplicationPayload:
        viewer = info.context.viewer
        assert isinstance(viewer, StaffViewer)
        try:
            decision = await applications.decide(
                info.context,
                viewer,
                ids.pk("Application", application_id),
                approve=approve,
                note=note,
                card_number=card_number,
            )
        except RuleViolation as no:
            return DecideApplicationPayload(
                application=None, errors=user_errors([no], info.context.locale)
            )
        return DecideApplicationPayload(
            application=Application(row=decision.application),
            temporary_password=decision.temporary_password,
            errors=[],
        )
