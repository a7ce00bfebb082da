"""The staff's mail log (STAFF-1, MAIL-8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from models import OutboxMessage, StaffAudit, StaffUser
from policies.enums import OutboxState as OutboxStateValue
from policies.enums import StaffRole as Role
from resolvers.accounts import accounts
from resolvers.mail.mail import mail_log
from resolvers.shared import privacy
from resolvers.shared.context import Context
from schema.shared.permissions import StaffOnly, guard

OutboxState = strawberry.enum(
    OutboxStateValue,
    description="PENDING (waiting for its time or a retry), SENDING, SENT or FAILED.",
)


@strawberry.type(description="One mail owed to a patron, and where it stands.")
class MailLogEntry:
    row: strawberry.Private[OutboxMessage]

    @strawberry.field(description="The notice: `hold_ready`, `due_reminder`, `overdue`, ...")
    def kind(self) -> str:
        return self.row.kind

    @strawberry.field(description="Delivery state.")
    def state(self) -> OutboxState:  # type: ignore[valid-type]
        return self.row.state

    @strawberry.field(description="Delivery attempts so far.")
    def attempts(self) -> int:
        return self.row.attempts

    @strawberry.field(description="When it was queued.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="Not sent before this (e.g. the next opening day).")
    def not_before(self) -> datetime:
        return self.row.not_before

    @strawberry.field(description="When it was delivered.")
    def sent_at(self) -> datetime | None:
        return self.row.sent_at

    @strawberry.field(description="The addresses that took it.")
    def recipients(self) -> list[str]:
        return list(self.row.recipients or [])

    @strawberry.field(description="The last delivery problem, if any.")
    def last_error(self) -> str | None:
        return self.row.last_error

    @strawberry.field(
        description="Staff: the mail as the patron read it (subject, blank line, body; a "
        "temporary password masked), while it is retained. Null before it is sent, for a mail "
        "never sent, and once the retention period (`HONDANA_MAIL_RETENTION_DAYS`, 30 days by "
        "default) has scrubbed it (reading privacy)."
    )
    def body(self) -> str | None:
        return self.row.body


@strawberry.type(
    description="One staff read of a patron's personal data, or one act done for them."
)
class AuditEntry:
    row: strawberry.Private[StaffAudit]

    @strawberry.field(
        description="What was read or done: `patron`, `mail_log`, `hold_placed`, "
        "`hold_cancelled`, `hold_moved`, `hold_called`, `loan_renewed`, "
        "`loan_renewed_override`, `checkout_override`, `patron_registered`, "
        "`patron_updated`, `card_renewed`."
    )
    def action(self) -> str:
        return self.row.action

    @strawberry.field(
        description="When, to the hour: an exact instant would line the read up with the loan "
        "made a moment later (reading privacy, docs/privacy.md)."
    )
    def at(self) -> datetime:
        return self.row.at

    @strawberry.field(description="Why, for an act done for the patron (STAFF-2); else null.")
    def reason(self) -> str | None:
        return self.row.reason

    @strawberry.field(description="The staff user's login name (null if since removed).")
    async def staff_username(self, info: Info[Context, Any]) -> str | None:
        if self.row.staff_id is None:
            return None
        staff: StaffUser | None = await info.context.loaders.staff_user.load(self.row.staff_id)
        return staff.username if staff is not None else None


@strawberry.type
class MailQueries:
    @strawberry.field(
        description="Staff: a patron's mails, newest first (at most 100), with each one's state.",
        extensions=guard(StaffOnly(Role.MAIL, Role.PATRONS, Role.COUNTER)),
    )
    async def mail_log(self, info: Info[Context, Any], card_number: str) -> list[MailLogEntry]:
        patron = await accounts.find_patron_by_card(info.context, card_number)
        if patron is None:
            return []
        await privacy.audit(info.context, "mail_log", patron.id)
        rows = await mail_log(info.context.services.sessions, patron.id)
        return [MailLogEntry(row=r) for r in rows]

    @strawberry.field(
        description="Admin: which staff read a patron's personal data, and when (newest first).",
        extensions=guard(StaffOnly(Role.ADMIN)),
    )
    async def staff_audit_log(self, info: Info[Context, Any], card_number: str) -> list[AuditEntry]:
        patron = await accounts.find_patron_by_card(info.context, card_number)
        if patron is None:
            return []
        return [AuditEntry(row=r) for r in await privacy.audit_log(info.context, patron.id)]
