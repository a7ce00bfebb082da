"""Time as the rules see it: an injected clock and library-local dates (SVC-2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Where "now" comes from. Tests move a :class:`FixedClock` instead of sleeping."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        """Jump to ``at``."""
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        self._at = self._at + delta


def library_today(now: datetime, timezone: str) -> date:
    """The library day that ``now`` falls on (all "days" are library days, SVC-2)."""
    return now.astimezone(ZoneInfo(timezone)).date()


class ShiftedClock:
    """Another clock moved by an offset: the development clock (never in production).

    Every policy, scan and mail takes "now" from here, so a tester who moves it sees hold
    expiry, the 上中下 rule across days and automatic e-book returns happen.
    """

    def __init__(self, base: Clock, offset: timedelta = timedelta(0)) -> None:
        self._base = base
        self.offset = offset

    def now(self) -> datetime:
        return self._base.now() + self.offset

    def real_now(self) -> datetime:
        """The unshifted instant, to compute an offset from a wanted "now"."""
        return self._base.now()
