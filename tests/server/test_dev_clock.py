"""HONDANA_DEV_NOW: a development clock that starts elsewhere, never in production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr, ValidationError

from policies.clock import OffsetClock, SystemClock
from server.settings import Settings


def test_dev_now_starts_the_clock_there_and_it_runs_on() -> None:
    start = datetime(2027, 1, 5, 0, 1, tzinfo=UTC)
    clock = Settings(dev_now=start, _env_file=None).clock()
    assert isinstance(clock, OffsetClock)
    first = clock.now()
    assert start <= first < start + timedelta(hours=1)
    assert clock.now() >= first
    assert isinstance(Settings(_env_file=None).clock(), SystemClock)


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
