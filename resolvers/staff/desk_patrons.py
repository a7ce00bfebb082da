"""Patrons registered, renewed and corrected at the desk (STAFF-1, CARD-1, STAFF-3).
Every act is audited; a new patron has no password until staff issue a temporary one."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models import Patron
from models.db import lock_row
from policies.desk import PatronDetails, check_card_number, clean_details, renewed_expiry
from policies.enums import CardKind
from policies.errors import ErrorCode, RuleViolation
from resolvers.accounts.applications import new_card_number
from resolvers.shared import privacy
from resolvers.shared.context import Context


def _apply(patron: Patron, details: PatronDetails) -> None:
    patron.name = details.name
    patron.name_kana = details.name_kana
    patron.birth_date = details.birth_date
    patron.address = details.address
    patron.phone = details.phone
    patron.email1 = details.email
    patron.guardian_consent = details.guardian_consent
    patron.contact_method = details.contact_method


async def register(
    ctx: Context,
    details: PatronDetails,
    card_kind: CardKind,
    card_number: str | None = None,
    card_expires_on: date | None = None,
) -> Patron:
    """A new patron with a card (given number or a fresh one) valid for the policy's years
    unless ``card_expires_on`` says otherwise."""
    today = ctx.today()
    details = clean_details(details, today)
    number = check_card_number(card_number) if card_number else new_card_number()
    years = ctx.policy.circulation.card_valid_years
    expires = card_expires_on or renewed_expiry(today, today, years)
    if not today <= expires <= renewed_expiry(today, today, years):
        raise RuleViolation(ErrorCode.INVALID_INPUT, "CARD-1", field="cardExpiresOn")
    async with ctx.services.sessions() as db, db.begin():
        taken = await db.scalar(select(Patron.id).where(Patron.card_number == number))
        if taken is not None:
            raise RuleViolation(ErrorCode.CARD_NUMBER_TAKEN, "STAFF-1", field="cardNumber")
        patron = Patron(
            card_number=number,
            card_kind=card_kind,
            card_expires_on=expires,
            created_at=ctx.services.clock.now(),
        )
        _apply(patron, details)
        db.add(patron)
        await db.flush()
        privacy.record_act(db, ctx, "patron_registered", patron.id)
    return patron


async def update(ctx: Context, patron_id: int, details: PatronDetails) -> Patron:
    """Correct a patron's registered details (name, reading, birth date, address, phone,
    e-mail, consent, contact method)."""
    details = clean_details(details, ctx.today())
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, patron_id)
        patron = await db.get(Patron, patron_id, populate_existing=True)
        if patron is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="cardNumber")
        if patron.email1 != details.email:
            patron.email1_failure = None  # a new address has not bounced yet
        _apply(patron, details)
        privacy.record_act(db, ctx, "patron_updated", patron.id)
    return patron


async def renew_card(ctx: Context, patron_id: int) -> Patron:
    """Renew a card at the counter (CARD-1): valid for the policy's years again."""
    today = ctx.today()
    async with ctx.services.sessions() as db, db.begin():
        await lock_row(db, Patron, patron_id)
        patron = await db.get(Patron, patron_id, populate_existing=True)
        if patron is None:
            raise RuleViolation(ErrorCode.NOT_FOUND, field="cardNumber")
        patron.card_expires_on = renewed_expiry(
            patron.card_expires_on, today, ctx.policy.circulation.card_valid_years
        )
        privacy.record_act(db, ctx, "card_renewed", patron.id)
    return patron
