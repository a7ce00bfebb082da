"""Reading a borrowed e-book (EBOOK-5): a short-lived signed link, never a file. The link
names the loan and its expiry, signed with the server's secret key; the reader endpoint
(``server/app.py``) checks the signature, then that the loan is still out."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import EbookLoan
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared.context import Context, PatronViewer

LINK_MINUTES = 10


def _signature(key: bytes, loan_id: int, expires: int) -> str:
    return hmac.new(key, f"ebook:{loan_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ReadingLink:
    """Where the reader opens, and until when (EBOOK-5)."""

    url: str
    expires_at: datetime


async def reading_link(ctx: Context, viewer: PatronViewer, loan_id: int) -> ReadingLink:
    """A link to read a borrowed e-book for the next 10 minutes; never a file."""
    now = ctx.services.clock.now()
    async with ctx.services.sessions() as db:
        loan = await db.get(EbookLoan, loan_id)
    if loan is None or loan.patron_id != viewer.patron_id or loan.returned_at is not None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="loanId")
    expires = int((now + timedelta(minutes=LINK_MINUTES)).timestamp())
    sig = _signature(ctx.services.secret_key, loan.id, expires)
    return ReadingLink(
        url=f"/ebooks/read/{loan.id}?expires={expires}&sig={sig}",
        expires_at=datetime.fromtimestamp(expires, tz=now.tzinfo),
    )


def link_is_valid(key: bytes, loan_id: int, expires: int, sig: str, now: datetime) -> bool:
    """Whether a reading link is genuine and current (the reader endpoint asks)."""
    return hmac.compare_digest(_signature(key, loan_id, expires), sig) and now.timestamp() < expires


async def loan_is_open(sessions: async_sessionmaker[AsyncSession], loan_id: int) -> bool:
    """Whether the loan a reading link was signed for is still out: returning the book
    (or the sweep's automatic return) ends every link to it at once, not ten minutes on.
    Asked only after the signature is verified, so ``loan_id`` is one we issued."""
    async with sessions() as db:
        loan = await db.get(EbookLoan, loan_id)
    return loan is not None and loan.returned_at is None
