"""The per-request context every resolver receives, and who is asking (the viewer).

This is plain data: the schema layer builds it from the HTTP request, resolvers read it.
Resolvers never see Starlette or Strawberry objects except through these fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from policies.clock import Clock, library_today
from policies.config import PolicyConfig
from policies.enums import PasswordState, StaffRole
from resolvers.shared.nudge import Nudger

if TYPE_CHECKING:
    from resolvers.shared.loaders import Loaders
    from resolvers.shared.passwords import PasswordHasher
    from resolvers.shared.reads import RequestReads

Locale = Literal["ja", "en"]


@dataclass(frozen=True, slots=True)
class PatronViewer:
    """A logged-in patron, with the facts the access rules need loaded up front."""

    patron_id: int
    session_id: int
    card_number: str
    password_state: PasswordState
    card_expires_on: date
    via_cookie: bool


@dataclass(frozen=True, slots=True)
class StaffViewer:
    """A logged-in staff user and their roles (STAFF-1)."""

    staff_id: int
    session_id: int
    username: str
    roles: frozenset[StaffRole]
    via_cookie: bool


@dataclass(frozen=True, slots=True)
class Anonymous:
    """Nobody logged in. ``session_expired`` says a token was sent but had run out (AUTH-10)."""

    session_expired: bool = False


Viewer = PatronViewer | StaffViewer | Anonymous


@dataclass(frozen=True, slots=True)
class Services:
    """What lives as long as the app: configuration, clock, database and hasher."""

    policy: PolicyConfig
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    hasher: PasswordHasher
    secure_cookies: bool
    production: bool
    # Wakes the mail dispatcher after a commit that owes a mail now (a temporary password);
    # without it the dispatcher's beat sends the mail within a minute anyway.
    notify: Callable[[], None] | None = None
    # Signs short-lived codes (the digital card).
    secret_key: bytes = b""
    # Runs ``notify`` bounded (resolvers/shared/nudge.py); built from it.
    nudger: Nudger | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.notify is not None:
            object.__setattr__(self, "nudger", Nudger(self.notify))  # frozen: set once here

    async def nudge(self) -> None:
        """Ask a worker to dispatch now. Never fails the request and never holds it longer
        than a moment, even when the broker hangs: the beat is the backstop."""
        if self.nudger is not None:
            await self.nudger()


@dataclass(slots=True)
class Context:
    """One request's context: the services, the viewer, the locale and fresh loaders."""

    services: Services
    viewer: Viewer
    locale: Locale
    request_id: str
    loaders: Loaders
    client_ip: str | None = None
    user_agent: str | None = None
    # The HTTP response being built, for cookies; typed loosely so resolvers stay HTTP-free.
    response: Any = None

    @property
    def policy(self) -> PolicyConfig:
        return self.services.policy

    @property
    def reads(self) -> RequestReads:
        """The request's one read session (``async with ctx.reads() as db``): reads that
        need no transaction of their own use it, as the loaders do. Writes, and reads that
        decide a write, keep ``services.sessions()`` with ``db.begin()`` and their locks."""
        return self.loaders.reads

    async def close(self) -> None:
        """The request is over: its loaders closed (the read connection back to the pool,
        what they read let go: :meth:`Loaders.close`)."""
        await self.loaders.close()

    def advise_retry(self, violation: Exception) -> None:
        """Put a throttle's wait on the HTTP response as ``Retry-After`` too, so clients and
        proxies that know HTTP back off without reading the payload."""
        seconds = getattr(violation, "params", {}).get("retry_after")
        if isinstance(seconds, int) and self.response is not None:
            self.response.headers["retry-after"] = str(seconds)

    def today(self) -> date:
        """Today as a library day (SVC-2)."""
        return library_today(self.services.clock.now(), self.services.policy.service.timezone)
