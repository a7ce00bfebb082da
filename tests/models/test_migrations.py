"""The Alembic migrations build exactly the schema the models describe, on both databases,
and the UTC column type gives back aware instants everywhere (SVC-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import models
from tests.support import Api, Factory


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, models.Base.metadata))


async def test_migrations_match_models(api: Api) -> None:
    # SVC-2 groundwork: one set of migrations serves SQLite and PostgreSQL alike.
    async with api.app.state.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_instants_come_back_aware_utc(api: Api, factory: Factory) -> None:
    # SVC-2: instants are stored as UTC and read back timezone-aware on both databases.
    jst = timezone(timedelta(hours=9))
    patron = await factory.patron(None, created_at=datetime(2026, 4, 1, 9, 0, tzinfo=jst))
    async with api.app.state.services.sessions() as db:
        row = await db.get(models.Patron, patron.id)
    assert row is not None
    assert row.created_at == datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    assert row.created_at.tzinfo is not None
