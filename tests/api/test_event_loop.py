"""argon2id runs off the event loop: logins hashing at once leave the loop free for every
other request (AUTH-1)."""

from __future__ import annotations

import asyncio
import threading

import argon2
import pytest

from policies.enums import PasswordState
from tests.support import Api, Factory

LOGIN = 'mutation($c: String!) { login(cardNumber: $c, password: "yomu2468", delivery: BEARER) { accessToken } }'
LOGINS = 6


class _Ticker:
    """A task that takes a turn on the loop whenever it can, counting its turns."""

    def __init__(self) -> None:
        self.ticks = 0
        self.done = False

    async def run(self) -> None:
        while not self.done:
            self.ticks += 1
            await asyncio.sleep(0)


class _Watched:
    """The app's real argon2 hasher, noting for each verification the thread it ran in
    and how many turns the ticker took while it ran."""

    def __init__(self, real: argon2.PasswordHasher, ticker: _Ticker) -> None:
        self.real, self.ticker = real, ticker
        self.calls: list[tuple[str, int]] = []

    def verify(self, stored: str, password: str) -> bool:
        start = self.ticker.ticks
        try:
            return self.real.verify(stored, password)
        finally:
            self.calls.append((threading.current_thread().name, self.ticker.ticks - start))

    def hash(self, password: str) -> str:
        return self.real.hash(password)

    def check_needs_rehash(self, stored: str) -> bool:
        return self.real.check_needs_rehash(stored)


@pytest.mark.production_argon2  # so that verifying one password costs what it does in production
async def test_logins_hashing_leave_the_loop_free(
    api: Api, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AUTH-1: passwords are verified with argon2id (production's cost) in a thread pool.
    # Proved by turns, not timing: a ticker task on the loop keeps getting turns *while*
    # each verification runs. On the loop, a verification holds it for its whole run and
    # the ticker gets not a single turn during any of them.
    patrons = [await factory.patron(state=PasswordState.ACTIVE) for _ in range(LOGINS)]
    hasher = api.app.state.services.hasher
    ticker = _Ticker()
    watched = _Watched(hasher._hasher, ticker)
    monkeypatch.setattr(hasher, "_hasher", watched)

    async def login(card: str) -> None:
        body = await api.gql(LOGIN, {"c": card})
        assert body["data"]["login"]["accessToken"], body

    turning = asyncio.create_task(ticker.run())
    await asyncio.gather(*(login(p.card_number) for p in patrons))
    ticker.done = True
    await turning
    loop_thread = threading.current_thread().name
    assert len(watched.calls) == LOGINS
    assert all(name != loop_thread for name, _ in watched.calls), watched.calls
    assert sum(turns for _, turns in watched.calls) >= LOGINS, watched.calls
