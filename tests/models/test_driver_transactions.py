"""Driver reads and writes inside a session's transaction are in that transaction
(models/driver_reads.py ``fetch_in``, models/driver_writes.py ``DriverWrite.run``).

SQLAlchemy's asyncpg adapter begins the database's transaction lazily, at the first
statement SQLAlchemy itself sends. A mutation whose first statements went to the driver
directly ran them outside any transaction: the placement's ``SELECT ... FOR UPDATE`` of
the patron released its lock as it returned, and two placements for one patron under load
made 21 holds where HOLD-2 allows 20 (``bench/load.py``, 2026-12-04). Each case here fails
when the driver's statements run outside the transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from models import BasketEntry, Patron
from models.db import lock_row
from models.driver_reads import fetch_in
from resolvers.circulation.basket import _INSERT
from resolvers.circulation.holds import patron_row
from resolvers.shared.loaders import by_id
from tests.support import Api, Factory


async def _locked(url: str, patron_id: int) -> bool:
    """Whether another connection finds the patron's row locked (SQLite: the database,
    whose writers lock it whole)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(parsed.database), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        finally:
            other.close()
        return False
    conn = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.fetch("SELECT id FROM patrons WHERE id = $1 FOR UPDATE NOWAIT", patron_id)
    except asyncpg.LockNotAvailableError:
        return True
    finally:
        await conn.close()
    return False


async def _patron_row(db: AsyncSession, patron_id: int) -> None:
    await patron_row(db, patron_id, lock=True)


async def _lock_row(db: AsyncSession, patron_id: int) -> None:
    await lock_row(db, Patron, patron_id)


@pytest.mark.parametrize("lock", [_patron_row, _lock_row], ids=["patron_row", "lock_row"])
async def test_the_patron_lock_is_held_until_the_transaction_ends(
    api: Api, factory: Factory, lock: Callable[[AsyncSession, int], Awaitable[None]]
) -> None:
    # HOLD-2: the placement's lock of the patron (``patron_row``), and the first statement
    # of every other mutation (``models.db.lock_row``: renewal, basket, hold changes), both
    # sent by the driver.
    patron = await factory.patron("yomu2468")
    url = api.app.state.engine.url.render_as_string(hide_password=False)
    async with api.app.state.services.sessions() as db, db.begin():
        await lock(db, patron.id)
        assert await _locked(url, patron.id)
    assert not await _locked(url, patron.id)


async def test_a_driver_write_is_undone_with_its_transaction(api: Api, factory: Factory) -> None:
    # BASKET-1: an add that fails after its insert leaves no entry behind.
    patron = await factory.patron("yomu2468")
    record = await factory.record("取り消される追加")
    with pytest.raises(RuntimeError):
        await _add_then_fail(api, patron.id, record.id)
    async with api.app.state.services.sessions() as db:
        count = await db.scalar(select(func.count()).select_from(BasketEntry))
    assert count == 0


async def _add_then_fail(api: Api, patron_id: int, record_id: int) -> None:
    async with api.app.state.services.sessions() as db, db.begin():
        [found] = await fetch_in(db, by_id(Patron), [patron_id])
        await _INSERT.run(db, patron=found.id, record=record_id, at=datetime.now(UTC))
        raise RuntimeError("the rest of the add failed")
