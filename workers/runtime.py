"""What a worker process keeps between tasks: settings, one event loop, one engine.

Celery tasks are plain functions; the data layer is async. Each worker process runs its
coroutines on one private loop with one engine bound to it, created lazily in the process
that uses them (never inherited across a fork).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models.db import create_engine, create_session_factory
from policies.clock import library_today
from policies.config import PolicyConfig
from resolvers.staff.devclock import load_offset
from server.settings import Settings, get_settings

T = TypeVar("T")


@dataclass(slots=True)
class Runtime:
    """One worker process's loop, engine and configuration."""

    pid: int
    settings: Settings
    policy: PolicyConfig
    loop: asyncio.AbstractEventLoop
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


_current: Runtime | None = None


def runtime() -> Runtime:
    """This process's runtime, made on first use (and again after a fork)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        settings = get_settings()
        settings.check_production()  # e.g. a moved clock (HONDANA_DEV_NOW) is refused there
        loop = asyncio.new_event_loop()
        engine = create_engine(settings.database_url, pool_size=2)
        _current = Runtime(
            pid=os.getpid(),
            settings=settings,
            policy=settings.policy.to_policy(),
            loop=loop,
            engine=engine,
            sessions=create_session_factory(engine),
        )
    return _current


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on this process's loop."""
    return runtime().loop.run_until_complete(coro)


def moment(now: str | None) -> tuple[datetime, date]:
    """``now`` (ISO 8601, for tests and catch-up runs) or the clock, and its library day.
    Outside production the clock is the development clock: the offset the API stored, so a
    scan sees the same "now" as the API (resolvers.staff.devclock)."""
    if now:
        instant = datetime.fromisoformat(now)
    else:
        instant = datetime.now(UTC)
        if not runtime().settings.is_production:
            instant += run(load_offset(runtime().sessions))
    if instant.tzinfo is None:
        raise ValueError("now must carry a time zone")
    return instant, library_today(instant, runtime().policy.service.timezone)
