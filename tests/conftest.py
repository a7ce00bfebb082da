"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``HONDANA_TEST_POSTGRES_URL`` (default: the local server, trust
auth); each run creates its own scratch database and drops it at the end, so parallel runs
don't collide. Without PostgreSQL those tests skip, unless ``HONDANA_REQUIRE_SERVICES=1``
(CI) makes a missing service an error.
"""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis
from sqlalchemy.engine import make_url

from models.migrate import upgrade
from policies.clock import FixedClock
from server.app import create_app
from server.settings import Settings
from tests.support import Api, Factory, empty_database, redis_of_this_worker

PG_ADMIN_URL = os.environ.get(
    "HONDANA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = redis_of_this_worker(
    os.environ.get("HONDANA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
)
REQUIRE = os.environ.get("HONDANA_REQUIRE_SERVICES", "") not in ("", "0")
# Monday 30 November 2026, 10:00 in Tokyo: an ordinary opening morning.
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def _pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_pg_dsn(PG_ADMIN_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_available() -> str | None:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"
    return None


def skip_unless_up(problem: str | None) -> None:
    """Skip for a service that does not answer (``problem``), or fail under
    ``HONDANA_REQUIRE_SERVICES``."""
    if problem:
        if REQUIRE:
            pytest.fail(f"{problem} (HONDANA_REQUIRE_SERVICES is set)")
        pytest.skip(problem)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the service tests use (skipped, or failed under REQUIRE, when it is down)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_unless_up(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@contextmanager
def scratch_pg_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database of this run's own, dropped afterwards: its URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty SQLite database for the whole run."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated, empty PostgreSQL database of this run's own, dropped at the end."""
    skip_unless_up(_pg_available())
    with scratch_pg_database("hondana_test") as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database of each kind (the real Alembic migrations run here).

    The databases themselves are separate session fixtures: pytest ends a parametrized
    session fixture whenever the next test wants its other value, and under pytest-xdist a
    worker's tests alternate between the kinds, so this one only picks."""
    kind = "sqlite_database" if request.param == "sqlite" else "postgres_database"
    return str(request.getfixturevalue(kind))


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing at :data:`T0` until the test moves it."""
    return FixedClock(T0)


# argon2id at its cheapest for the tests that are not about its cost: at the production
# parameters (19 MiB, two passes) every patron a test makes and every login took 40-50 ms
# of CPU (about a tenth of the suite's, measured). A test about the cost itself (the event
# loop kept free, rehashing an old hash, the login storms) is marked `production_argon2`,
# the hashing-thread tests make their own hasher, and every `hondana serve` a test starts
# hashes as in production.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Test settings: the backend under test, a scratch maildir and, unless the test is
    marked ``production_argon2``, the cheapest argon2id parameters."""
    settings = Settings(
        env="test",
        database_url=database_url,
        maildir=tmp_path / "maildir",
        broker_url="memory://",
        _env_file=None,
    )
    if request.node.get_closest_marker("production_argon2"):
        return settings
    return settings.model_copy(update=CHEAP_ARGON2)


@pytest.fixture
async def api(settings: Settings, clock: FixedClock) -> AsyncIterator[Api]:
    """The app over an empty database, and a client that speaks to it over ASGI."""
    nudges: list[int] = []
    app = create_app(settings, clock=clock, notify=lambda: nudges.append(1))
    app.state.nudges = nudges
    await empty_database(app.state.engine)
    client = Api(app)
    try:
        yield client
    finally:
        await client.aclose()
        await app.state.engine.dispose()


@pytest.fixture
def factory(api: Api, clock: FixedClock) -> Factory:
    """Makes libraries, patrons, records, copies and loans straight in the database."""
    return Factory(api.app.state.services, clock)


def pytest_configure(config: pytest.Config) -> None:
    """The garbage collector tuned for a test process (the servers a test starts keep
    Python's defaults): what the imports made (the app, SQLAlchemy, hypothesis) is frozen
    out of every collection, and the youngest generation is collected every 50,000
    allocations instead of 700. Each request of a test allocates thousands of short-lived
    objects; with the defaults the collector ran many times a request (measured on
    circulation, accounts and self-service, serially: 58-62 s of CPU before, 48-54 s
    after)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)


# Under pytest-xdist (`make test` runs `pytest -n`), tests that share an expensive
# fixture run on one worker, which builds it once: the loaded sample catalogue (19,554
# records, both database kinds from one preparation), the demo library the browser tests
# copy, and any module-scoped fixture (a served API, the parsed sample) by its module.
SHARED_FIXTURES = {"catalogue_url": "catalogue", "demo_library": "browser"}


def _group(item: Any) -> str | None:
    fixtures = getattr(item, "fixturenames", ())
    for fixture, group in SHARED_FIXTURES.items():
        if fixture in fixtures:
            return group
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    if any(defs[-1].scope == "module" for defs in definitions):
        return str(item.nodeid.split("::")[0])
    return None


# Around the others: pytest-xdist reads the groups in its own pass over the items, so they
# are set before it; the order is set after pytest's own, which sorts by database kind.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(items: list[Any]) -> Iterator[None]:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.database)
        group = _group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    yield
    # pytest-xdist hands out the shared-fixture groups first (largest first), then the
    # other tests in this order: the `long` ones (a real worker, `hondana up`, the fuzz)
    # go first, so that no worker is still on one after the others have run dry. Stable,
    # so the rest keep pytest's order.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse a run whose groups pytest-xdist has not applied.

    pytest-xdist sends a test's group to its scheduler as an ``@group`` suffix on the
    node id; with a pytest that ignores that (9.2: pytest-dev/pytest-xdist#1386) the
    groups are silently lost and each worker builds every shared fixture itself."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    for item in session.items:
        group = item.get_closest_marker("xdist_group")
        if group is not None and "@" not in item.nodeid:
            raise pytest.UsageError(
                f"pytest-xdist did not apply the group {group.args[0]!r} to {item.nodeid}: "
                "this pytest and pytest-xdist do not work together (see pyproject.toml)"
            )
