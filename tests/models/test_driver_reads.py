"""Driver reads (models/driver_reads.py, issue [R2 9/9]): rows as the ORM would give them.

The loaders' reads skip the ORM's execution path, so what the ORM did on the way must
still happen: types converted (SQLite keeps dates as text and booleans as integers),
instances detached with their identity, and the mappers configured even in a process that
has not queried anything through the ORM yet (the benchmark's API answered its first
record pages with INTERNAL_ERROR until this was so).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime

from sqlalchemy import BindParameter, bindparam, inspect, select

from models import Hold, Library
from models.driver_reads import DriverSelect
from policies.enums import HoldState
from tests.support import Api, Factory

KEYS: BindParameter[int] = bindparam("keys", expanding=True)

FRESH_PROCESS = textwrap.dedent(
    """
    from models import Library
    from models.driver_reads import _instance_maker
    row = [None] * len(Library.__table__.columns)
    row[[c.key for c in Library.__table__.columns].index("id")] = 7
    library = _instance_maker(Library.__mapper__)(row)
    print(library.id)
    """
)


def test_instances_work_in_a_process_that_has_not_used_the_orm() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "7"


async def test_rows_come_back_typed_and_detached_as_from_the_orm(
    api: Api, factory: Factory
) -> None:
    library = await factory.library("D1")
    patron = await factory.patron("yomu2468")
    record = await factory.record()
    hold = Hold(
        patron_id=patron.id,
        record_id=record.id,
        pickup_library_id=library.id,
        state=HoldState.WAITING,
        placed_at=factory.clock.now(),
    )
    await factory.add(hold)
    by_record = DriverSelect(select(*Hold.__table__.c).where(Hold.record_id.in_(KEYS)), Hold)
    async with api.app.state.engine.connect() as conn:
        [driver] = await by_record.fetch(conn, [record.id])
    async with factory.services.sessions() as db:
        orm = (await db.execute(select(Hold).where(Hold.id == hold.id))).scalar_one()
    assert driver.state is HoldState.WAITING
    assert isinstance(driver.placed_at, datetime) and driver.placed_at.tzinfo is not None
    columns = [c.key for c in Hold.__table__.columns]
    assert {k: getattr(driver, k) for k in columns} == {k: getattr(orm, k) for k in columns}
    state = inspect(driver)
    assert state.detached and state.identity == (hold.id,)


async def test_a_statement_with_no_keys_reads_every_row(api: Api, factory: Factory) -> None:
    await factory.library("D1")
    await factory.library("D2")
    every = DriverSelect(select(*Library.__table__.c).order_by(Library.id), Library)
    async with api.app.state.engine.connect() as conn:
        rows = await every.fetch(conn, ())
    assert [row.code for row in rows][-2:] == ["D1", "D2"]
