"""The digital card: codes for the app, and turning a scanned code into a patron."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from models import Patron, UsedCardCode
from policies.card_code import expires_at, make_code, read_code
from policies.errors import ErrorCode, RuleViolation
from resolvers.accounts.accounts import find_patron_by_card
from resolvers.shared.context import Context, PatronViewer

KEEP_USED = timedelta(minutes=5)  # longer than any code lives


@dataclass(frozen=True, slots=True)
class DigitalCard:
    """What the app shows: the card number and a fresh code to render as a barcode."""

    card_number: str
    code: str
    expires_at: datetime


def my_card(ctx: Context, viewer: PatronViewer) -> DigitalCard:
    """A new code on every call; the app asks again each minute and after each scan."""
    now = ctx.services.clock.now()
    code = make_code(viewer.card_number, now, ctx.services.secret_key)
    return DigitalCard(card_number=viewer.card_number, code=code, expires_at=expires_at(now))


async def patron_for_code(ctx: Context, code: str) -> Patron:
    """The patron a scanned code belongs to; each code is accepted once (a replay is
    ``CARD_CODE_USED``), forged or stale ones are refused."""
    now = ctx.services.clock.now()
    card_number = read_code(code, now, ctx.services.secret_key)
    digest = hashlib.sha256(code.strip().encode()).digest()
    try:
        async with ctx.services.sessions() as db, db.begin():
            await db.execute(delete(UsedCardCode).where(UsedCardCode.used_at < now - KEEP_USED))
            db.add(UsedCardCode(code_hash=digest, used_at=now))
    except IntegrityError:
        raise RuleViolation(ErrorCode.CARD_CODE_USED, field="cardCode") from None
    patron = await find_patron_by_card(ctx, card_number)
    if patron is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="cardCode")
    return patron
