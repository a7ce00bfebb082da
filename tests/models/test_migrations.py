"""The Alembic migrations build exactly the schema the models describe, on both databases,
and the UTC column type gives back aware instants everywhere (SVC-2)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

import models
from models.db import create_engine
from models.migrate import downgrade, upgrade
from policies.enums import ApplicationKind, ApplicationState
from tests.conftest import _pg_available, scratch_pg_database, skip_unless_up
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


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    # Every migration has a working downgrade, on both databases: head → base → head, and
    # the schema at the end is still the models' (SQLite batch mode and PostgreSQL DDL).
    urls = [f"sqlite+aiosqlite:///{tmp_path / 'roundtrip.db'}"]
    with contextlib.ExitStack() as stack:
        if _pg_available() is None:
            urls.append(stack.enter_context(scratch_pg_database("hondana_roundtrip")))
        else:
            skip_unless_up(_pg_available())
        for url in urls:
            upgrade(url)
            downgrade(url, "base")
            upgrade(url)
            assert asyncio.run(_diff_at(url)) == [], url


async def _diff_at(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


def test_password_applications_go_on_downgrade(tmp_path: Path) -> None:
    # AUTH-3 (migration 0016): the older schema cannot hold a PASSWORD_ISSUE application
    # (no such kind, no address): going down drops those and keeps every other one.
    urls = [f"sqlite+aiosqlite:///{tmp_path / 'password_applications.db'}"]
    with contextlib.ExitStack() as stack:
        if _pg_available() is None:
            urls.append(stack.enter_context(scratch_pg_database("hondana_pwapp")))
        else:
            skip_unless_up(_pg_available())
        for url in urls:
            upgrade(url)
            asyncio.run(_two_applications(url))
            downgrade(url, "0014_r2_layout2")
            assert asyncio.run(_kinds(url)) == ["CARD_RENEWAL"], url
            upgrade(url)


async def _two_applications(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            now = datetime(2026, 12, 3, tzinfo=UTC)
            await conn.execute(
                insert(models.Application),
                [
                    {
                        "kind": kind,
                        "state": ApplicationState.PENDING,
                        "name": "茨木 花子",
                        "birth_date": date(2000, 6, 1),
                        "email": email,
                        "created_at": now,
                    }
                    for kind, email in (
                        (ApplicationKind.PASSWORD_ISSUE, None),
                        (ApplicationKind.CARD_RENEWAL, "h@example.jp"),
                    )
                ],
            )
    finally:
        await engine.dispose()


async def _kinds(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT kind FROM applications ORDER BY id"))
            return [str(kind) for (kind,) in rows]
    finally:
        await engine.dispose()
