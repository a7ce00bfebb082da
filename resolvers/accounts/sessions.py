"""Session tokens: issue, look up (with the idle timer, AUTH-10) and end.

A token is 32 random bytes shown to the client once; the database keeps only its SHA-256,
so a leaked table opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Patron, Session, StaffUser
from models.driver_reads import KEYS, DriverSelect
from policies.accounts import can_log_in, session_is_live
from policies.enums import PasswordState, StaffRole
from resolvers.shared.context import Anonymous, PatronViewer, Services, StaffViewer, Viewer
from resolvers.shared.reads import RequestReads

# Touching the idle timer on every request would be a write per request; a session seen
# this recently is left alone, which shortens the idle limit by at most this much.
TOUCH_AFTER = timedelta(seconds=30)
TOKEN_BYTES = 32


def token_digest(token: str) -> bytes:
    """What the database stores for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).digest()


async def open_session(
    db: AsyncSession,
    *,
    now: datetime,
    patron_id: int | None = None,
    staff_id: int | None = None,
    user_agent: str | None = None,
) -> str:
    """Create a session in ``db``'s transaction and return its token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.add(
        Session(
            token_hash=token_digest(token),
            patron_id=patron_id,
            staff_id=staff_id,
            created_at=now,
            last_seen_at=now,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    return token


async def end_session(db: AsyncSession, session_id: int) -> None:
    """Delete one session."""
    await db.execute(delete(Session).where(Session.id == session_id))


async def end_other_sessions(db: AsyncSession, patron_id: int, keep_session_id: int | None) -> None:
    """End every session of the patron except ``keep_session_id`` (AUTH-7)."""
    stmt = delete(Session).where(Session.patron_id == patron_id)
    if keep_session_id is not None:
        stmt = stmt.where(Session.id != keep_session_id)
    await db.execute(stmt)


# The viewer look-up, sent by the driver itself (models/driver_reads.py): it runs on every
# request with a token, and through the ORM (three entities joined) it cost more CPU than
# the rest of a small page's reads.
_SESSION_BY_DIGEST = DriverSelect(
    select(
        Session.id,
        Session.created_at,
        Session.last_seen_at,
        Patron.id,
        Patron.card_number,
        Patron.password_state,
        Patron.card_expires_on,
        StaffUser.id,
        StaffUser.username,
        StaffUser.roles,
        StaffUser.active,
    )
    .outerjoin(Patron, Patron.id == Session.patron_id)
    .outerjoin(StaffUser, StaffUser.id == Session.staff_id)
    .where(Session.token_hash.in_(KEYS))
)


@dataclass(frozen=True, slots=True)
class _SessionRow:
    """A session and what its owner's viewer needs (patron or staff columns, the other
    side's None)."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    patron_id: int | None
    card_number: str | None
    password_state: PasswordState | None
    card_expires_on: date | None
    staff_id: int | None
    username: str | None
    roles: str | None
    active: bool | None

    def owner_may_log_in(self) -> bool:
        """A patron whose password state allows a login, or an active staff user."""
        if self.patron_id is not None:
            return self.password_state is not None and can_log_in(self.password_state)
        return self.staff_id is not None and bool(self.active)


async def _session_row(
    services: Services, token: str, reads: RequestReads | None
) -> _SessionRow | None:
    own = reads is None
    reads = reads or RequestReads(services.sessions)
    try:
        rows = await reads.rows(_SESSION_BY_DIGEST, [token_digest(token)])
    finally:
        if own:
            await reads.close()
    return _SessionRow(*rows[0]) if rows else None


async def _keep_alive(services: Services, session: _SessionRow, now: datetime) -> bool:
    """Whether the session still holds (AUTH-10, and an owner who may log in); an expired
    one is deleted, a live one's idle timer touched every ``TOUCH_AFTER``."""
    live = session_is_live(
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
        now=now,
        policy=services.policy.accounts,
    )
    if not live or not session.owner_may_log_in():
        async with services.sessions() as db, db.begin():
            await end_session(db, session.id)
        return False
    if now - session.last_seen_at >= TOUCH_AFTER:
        async with services.sessions() as db, db.begin():
            await db.execute(
                update(Session).where(Session.id == session.id).values(last_seen_at=now)
            )
    return True


def _roles(raw: str) -> frozenset[StaffRole]:
    known = {r.value for r in StaffRole}
    return frozenset(StaffRole(r) for r in raw.split(",") if r in known)


async def viewer_for_token(
    services: Services, token: str | None, *, via_cookie: bool, reads: RequestReads | None = None
) -> Viewer:
    """Who holds ``token``: a patron, a staff user, or nobody (expired sessions are deleted).

    The look-up goes through ``reads``, the request's read session, when given (one
    connection serves the request's reads); the rare write (an expired session deleted, the
    idle timer touched every ``TOUCH_AFTER``) commits in a transaction of its own. Neither
    write depends on the read beyond the session's id: a session deleted meanwhile is
    simply not touched."""
    if not token or len(token) > 200:
        return Anonymous()
    now = services.clock.now()
    session = await _session_row(services, token, reads)
    if session is None:
        return Anonymous()
    if not await _keep_alive(services, session, now):
        return Anonymous(session_expired=True)
    if session.patron_id is not None:
        assert session.card_number is not None
        assert session.password_state is not None
        assert session.card_expires_on is not None
        return PatronViewer(
            patron_id=session.patron_id,
            session_id=session.id,
            card_number=session.card_number,
            password_state=session.password_state,
            card_expires_on=session.card_expires_on,
            via_cookie=via_cookie,
        )
    assert session.staff_id is not None
    assert session.username is not None
    return StaffViewer(
        staff_id=session.staff_id,
        session_id=session.id,
        username=session.username,
        roles=_roles(session.roles or ""),
        via_cookie=via_cookie,
    )
