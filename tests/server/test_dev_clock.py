"""HONDANA_DEV_NOW: a development clock that starts elsewhere, never in production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from resolvers.staff.devclock import load_offset, store_offset
from server.app import create_app
from server.settings import Settings


async def test_dev_now_sets_the_one_clock_api_and_workers_read(
    database_url: str, tmp_path: Path
) -> None:
    # HONDANA_DEV_NOW is read once, by the API at start, into the stored offset
    # (resolvers.staff.devclock) that the workers' scans read too: one development clock.
    start = datetime(2027, 1, 5, 0, 1, tzinfo=UTC)
    settings = Settings(database_url=database_url, dev_now=start, maildir=tmp_path, _env_file=None)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        now = app.state.services.clock.now()
        stored = await load_offset(app.state.services.sessions)
        # The database is shared with later tests: back to real time.
        await store_offset(app.state.services.sessions, timedelta(0), datetime.now(UTC))
    assert start <= now < start + timedelta(hours=1)
    assert abs(datetime.now(UTC) + stored - now) < timedelta(minutes=5)


def test_dev_now_needs_a_zone() -> None:
    with pytest.raises(ValidationError):
        Settings(dev_now=datetime(2027, 1, 5, 9, 0), _env_file=None)


def test_production_refuses_a_moved_clock() -> None:
    settings = Settings(
        env="production",
        secret_key=SecretStr("a-long-random-production-key-0123456789"),
        dev_now=datetime(2027, 1, 5, 0, 1, tzinfo=UTC),
        _env_file=None,
    )
    with pytest.raises(RuntimeError, match="HONDANA_DEV_NOW"):
        settings.check_production()
