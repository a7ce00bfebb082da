"""The patron's own settings (PREF-1..6): addresses, contact method, pickup library,
due-date reminder and new-arrival fields. Partial updates: what is not given stays."""

from __future__ import annotations

from dataclasses import dataclass, field

from models import Library, Patron
from models.db import lock_row
from policies.enums import ContactMethod
from policies.errors import ErrorCode, RuleViolation
from policies.preferences import check_contact, check_reminder_days, clean_terms, normalize_email
from resolvers.accounts.verification import verify_counted
from resolvers.shared import privacy
from resolvers.shared.context import Context, PatronViewer

UNCHANGED = object()  # a field the request did not mention


@dataclass(slots=True)
class PreferenceChange:
    """What to change; a field left as :data:`UNCHANGED` stays as it is, ``None`` clears."""

    email1: object = UNCHANGED
    email2: object = UNCHANGED
    current_password: str | None = None
    contact_method: object = UNCHANGED
    default_pickup_library_id: object = UNCHANGED
    due_reminder: object = UNCHANGED
    due_reminder_days: object = UNCHANGED
    keep_reading_history: object = UNCHANGED
    new_arrival_fields: dict[str, object] = field(default_factory=dict)


def _address(value: object, name: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # clearing an address (PREF-2)
    assert isinstance(value, str)
    return normalize_email(value, name)


async def _check_password_for_address(
    ctx: Context, viewer: PatronViewer, current: Patron, password: str | None
) -> None:
    """A new address needs the current password (PREF-2), counted like a login of the card
    (AUTH-11) so a stolen session cannot guess it."""
    refusal = await verify_counted(
        ctx, f"patron:{viewer.card_number}", current.password_hash, password or ""
    )
    if refusal is not None:
        if refusal.code is not ErrorCode.INVALID_CREDENTIALS:
            raise refusal  # the card is locked, or the client address over its limit
        raise RuleViolation(ErrorCode.WRONG_CURRENT_PASSWORD, "PREF-2", field="currentPassword")


async def update(ctx: Context, viewer: PatronViewer, change: PreferenceChange) -> Patron:
    """Apply ``change`` in one transaction, or change nothing and raise the first problem.

    Changing an address asks for the current password (a stolen session must not redirect
    the patron's mail); a wrong one counts toward the lockout like a failed login.
    """
    async with ctx.services.sessions() as db:
        current = await db.get(Patron, viewer.patron_id)
    assert current is not None
    emails = {}
    for name in ("email1", "email2"):
        value = getattr(change, name)
        if value is not UNCHANGED:
            emails[name] = _address(value, name)
    if any(emails[n] != getattr(current, n) for n in emails):
        await _check_password_for_address(ctx, viewer, current, change.current_password)
    if change.due_reminder_days not in (UNCHANGED, None):
        assert isinstance(change.due_reminder_days, int)
        check_reminder_days(change.due_reminder_days)
    fields = {
        k: clean_terms(v, k) for k, v in change.new_arrival_fields.items() if isinstance(v, list)
    }
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, viewer.patron_id)
        patron = await db.get(Patron, viewer.patron_id, populate_existing=True)
        assert patron is not None
        for name, value in emails.items():
            if value != getattr(patron, name):
                setattr(patron, name, value)
                setattr(patron, f"{name}_failure", None)  # a new address gets a fresh start
        if change.default_pickup_library_id is not UNCHANGED:
            library = await db.get(Library, change.default_pickup_library_id)
            if library is None or not library.takes_holds:
                raise RuleViolation(
                    ErrorCode.INVALID_PICKUP_LIBRARY, "PREF-4", field="defaultPickupLibraryId"
                )
            patron.default_pickup_library_id = library.id
        if change.contact_method is not UNCHANGED:
            assert isinstance(change.contact_method, ContactMethod)
            patron.contact_method = change.contact_method
        # Clearing both addresses while mail is the contact method is refused too (PREF-3).
        check_contact(patron.contact_method, patron.email1, patron.email2)
        if change.due_reminder is not UNCHANGED:
            patron.due_reminder = bool(change.due_reminder)
        if change.due_reminder_days is not UNCHANGED:
            patron.due_reminder_days = change.due_reminder_days  # type: ignore[assignment]
        if change.keep_reading_history is not UNCHANGED:
            patron.keep_reading_history = bool(change.keep_reading_history)
            if not patron.keep_reading_history:
                # Opting out erases, by the same rule a return follows, under the same lock.
                await privacy.forget_ended(db, patron.id, ctx.policy.service.timezone)
        if fields:
            merged = dict(patron.new_arrival_fields or {})
            merged.update(fields)
            patron.new_arrival_fields = merged
    return patron
