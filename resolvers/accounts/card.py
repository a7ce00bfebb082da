"""The digital card: codes for the app, and turning a scanned code into a patron."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import segno
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from models import Patron, UsedCardCode
from policies.card_code import expires_at, make_code, read_code
from policies.errors import ErrorCode, RuleViolation
from resolvers.accounts.accounts import find_patron_by_card
from resolvers.shared.context import Context, PatronViewer

KEEP_USED = timedelta(minutes=5)  # longer than any code lives
# A use is stored to the hour: an exact instant would line the scan up with the loan the
# desk makes a moment later (reading privacy). Kept that much longer to stay a replay guard.
USE_GRAIN = timedelta(hours=1)


def use_hour(now: datetime) -> datetime:
    """When a code was used, as stored: the hour it was used in."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def stale_before(now: datetime) -> datetime:
    """Uses stored before this are of codes long dead: they can go."""
    return now - KEEP_USED - USE_GRAIN


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


def qr_svg(code: str) -> str:
    """The code as a QR code in SVG (error correction M, 4-module quiet zone): scanners
    at the counter read it from a phone screen."""
    out = io.BytesIO()
    segno.make_qr(code, error="m").save(
        out, kind="svg", scale=8, border=4, xmldecl=False, svgns=True, dark="#000", light="#fff"
    )
    return out.getvalue().decode()


async def patron_for_code(ctx: Context, code: str) -> Patron:
    """The patron a scanned code belongs to; each code is accepted once (a replay is
    ``CARD_CODE_USED``), forged or stale ones are refused."""
    now = ctx.services.clock.now()
    card_number = read_code(code, now, ctx.services.secret_key)
    digest = hashlib.sha256(code.strip().encode()).digest()
    try:
        async with ctx.services.sessions() as db, db.begin():
            await db.execute(delete(UsedCardCode).where(UsedCardCode.used_at < stale_before(now)))
            db.add(UsedCardCode(code_hash=digest, used_at=use_hour(now)))
    except IntegrityError:
        raise RuleViolation(ErrorCode.CARD_CODE_USED, field="cardCode") from None
    patron = await find_patron_by_card(ctx, card_number)
    if patron is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="cardCode")
    return patron
