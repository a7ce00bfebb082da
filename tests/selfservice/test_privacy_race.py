"""Reading privacy under a race: a check-in and an opt-out at the same moment, sent through
two app instances (two engines, two connection pools) on one database, or through two
`hondana serve` processes, never leave the returned loan linked to the patron (issue
[R2 4/9] item 1)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from models import Loan, Patron
from policies.clock import FixedClock
from policies.enums import CopyStatus, StaffRole
from server.settings import Settings
from tests.circulation.ops import CHECK_IN, gid
from tests.support import NO_MAINTENANCE, Api, Factory, app_client

pytestmark = pytest.mark.long

KEEP = """mutation($k: Boolean!) { updatePreferences(input: {keepReadingHistory: $k}) {
  patron { keepReadingHistory } errors { code } } }"""
HISTORY = "{ myReadingHistory { record { title } } }"


ROOT = Path(__file__).resolve().parents[2]


async def _races(api: Api, one: Api, other: Api, factory: Factory, trials: int) -> int:
    """Run ``trials`` check-in/opt-out races, the check-in through ``one`` and the opt-out
    through ``other``; return how many left the loan linked or in the reading history."""
    lib = await factory.library("CEN")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    desk = await one.staff_login("desk", "staffpass1")
    patron = await factory.patron("yomu2468", keep_reading_history=True)
    token = await other.login(patron.card_number, "yomu2468")
    record = await factory.record("競争する本")
    linked = 0
    for _ in range(trials):
        async with api.app.state.services.sessions() as db, db.begin():
            await db.execute(
                update(Patron).where(Patron.id == patron.id).values(keep_reading_history=True)
            )
        copy = await factory.copy(record, lib, status=CopyStatus.ON_LOAN)
        loan = await factory.loan(patron, copy, due_in_days=3)
        returned, opted = await asyncio.gather(
            one.gql(CHECK_IN, {"b": copy.barcode, "l": gid("Library", lib.id)}, token=desk),
            other.gql(KEEP, {"k": False}, token=token),
        )
        assert returned["data"]["checkIn"]["returnedLoan"] is not None, returned
        assert opted["data"]["updatePreferences"]["errors"] == [], opted
        async with api.app.state.services.sessions() as db:
            kept = await db.scalar(select(Loan.patron_id).where(Loan.id == loan.id))
        history = (await other.gql(HISTORY, token=token))["data"]["myReadingHistory"]
        linked += kept is not None or bool(history)
    return linked


async def test_check_in_racing_an_opt_out_leaves_no_link(
    api: Api, factory: Factory, settings: Settings, clock: FixedClock, database_url: str
) -> None:
    # Reading privacy: the keep-or-forget decision at check-in is taken under the patron's
    # lock, which an opt-out holds too: 100 races, 0 loans left linked (34/100 before).
    trials = 100 if database_url.startswith("postgresql") else 20
    async with app_client(settings, clock) as other:
        assert await _races(api, api, other, factory, trials) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Served(Api):
    """A client of a `hondana serve` process over loopback HTTP."""

    def __init__(self, url: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=30)


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two `hondana serve` processes on the test database, as users start them."""
    if not database_url.startswith("postgresql"):
        pytest.skip("two server processes race on PostgreSQL (SQLite serialises writers)")
    env = {
        **os.environ,
        **NO_MAINTENANCE,
        "HONDANA_DATABASE_URL": database_url,
        "HONDANA_MAILDIR": str(tmp_path / "maildir"),
        "HONDANA_BROKER_URL": "memory://",
    }
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"serve-{port}.log").open("wb"),
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)


@asynccontextmanager
async def _clients(urls: list[str]) -> AsyncIterator[tuple[Api, Api]]:
    one, other = _Served(urls[0]), _Served(urls[1])
    try:
        yield one, other
    finally:
        await one.aclose()
        await other.aclose()


async def test_two_server_processes_race_without_a_link(
    api: Api, factory: Factory, two_servers: list[str]
) -> None:
    # Reading privacy, as run in production: check-in on one `hondana serve`, the opt-out on
    # another, 100 times at the same moment; no loan stays linked.
    async with _clients(two_servers) as (one, other):
        assert await _races(api, one, other, factory, 100) == 0
