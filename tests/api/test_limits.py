"""Request limits, each refused before execution with its own code, and what the API answers
when the database is slow or not there (issue [7/8], OWASP GraphQL Cheat Sheet)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import models
from models.db import create_engine, is_statement_timeout, is_unavailable
from policies.clock import FixedClock
from schema.root import MAX_ALIASES, MAX_DEPTH, MAX_SELECTIONS, MAX_TOKENS
from schema.shared.ids import encode
from server.settings import Settings
from tests.support import Api, Factory, app_client, codes


def _error(body: dict[str, object], code: str) -> dict[str, object]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    found = [e for e in errors if e.get("extensions", {}).get("code") == code]
    assert found, body
    return found[0]


async def test_depth_limit_has_its_own_code(api: Api) -> None:
    # SEC: query depth at most 10, checked before anything executes.
    nested = (
        "{ search { edges { node " + "{ x " * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1) + " } } }"
    )
    body = await api.gql(nested)
    error = _error(body, "QUERY_TOO_DEEP")
    assert error["extensions"]["max"] == MAX_DEPTH  # type: ignore[index]
    assert body.get("data") is None


async def test_alias_limit_has_its_own_code(api: Api, factory: Factory) -> None:
    # SEC: at most 20 aliases; the message says the limit in the request's language.
    await factory.library()
    over = " ".join(f"a{i}: libraries {{ code }}" for i in range(MAX_ALIASES + 1))
    body = await api.gql("{ " + over + " }")
    error = _error(body, "TOO_MANY_ALIASES")
    assert error["extensions"]["max"] == MAX_ALIASES  # type: ignore[index]
    assert "20" in str(error["message"])
    at_limit = " ".join(f"a{i}: libraries {{ code }}" for i in range(MAX_ALIASES))
    assert "errors" not in await api.gql("{ " + at_limit + " }")


async def test_selection_limit_counts_every_spread(api: Api) -> None:
    # SEC: 1,000 selections with fragments expanded; a fragment spread at every rung of a
    # ladder is counted at every spread, cheaply (each fragment measured once).
    rungs = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(12))
    ladder = f"query {{ ...F0 }} {rungs} fragment F12 on Query {{ libraries {{ code }} }}"
    body = await api.gql(ladder, headers={"Accept-Language": "en"})
    error = _error(body, "QUERY_TOO_COMPLEX")
    assert error["extensions"]["max"] == MAX_SELECTIONS  # type: ignore[index]
    assert error["message"] == (
        "The query selects too many fields (at most 1000, fragments expanded)."
    )
    assert body.get("data") is None


async def test_token_limit_has_its_own_code(api: Api) -> None:
    # SEC: at most 2,000 tokens; the parser stops counting there, so huge documents are cheap.
    body = await api.gql("{" + " libraries { code }" * (MAX_TOKENS // 4 + 1) + "}")
    error = _error(body, "TOO_MANY_TOKENS")
    assert error["extensions"]["max"] == MAX_TOKENS  # type: ignore[index]


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
async def test_page_size_out_of_range(api: Api, first: int) -> None:
    # SEC: `first` is 1..100 on every connection (search and newArrivals).
    for query in (
        'query($f: Int!) { search(query: "x", first: $f) { totalCount } }',
        'query($f: Int!) { newArrivals(since: "2026-01-01", first: $f) { totalCount } }',
    ):
        body = await api.gql(query, {"f": first})
        error = _error(body, "PAGE_SIZE_OUT_OF_RANGE")
        assert error["extensions"]["max"] == 100  # type: ignore[index]


async def test_batches_are_refused(api: Api) -> None:
    # SEC: batching is off: a JSON array of operations gets BATCHING_DISABLED and runs none.
    response = await api.http.post(
        "/graphql",
        json=[{"query": "{ libraries { code } }"}, {"query": "{ libraries { code } }"}],
    )
    assert response.status_code == 400
    assert codes(response.json()) == ["BATCHING_DISABLED"]


@pytest.fixture
def slow_settings(settings: Settings) -> Settings:
    """The test settings with an execution limit no operation can meet."""
    return settings.model_copy(update={"execution_timeout_seconds": 1e-6})


async def test_execution_timeout_cancels_and_writes_nothing(
    api: Api, factory: Factory, slow_settings: Settings, clock: FixedClock
) -> None:
    # SEC: an operation past the execution limit answers EXECUTION_TIMEOUT and its
    # transaction is rolled back: the basket stays empty.
    lib = await factory.library()
    patron = await factory.patron("himitsu123", card_number="2000000001")
    record = await factory.record()
    await factory.copy(record, lib)
    token = await api.login("2000000001", "himitsu123")
    async with app_client(slow_settings, clock) as slow:
        body = await slow.gql(
            "mutation($r: ID!) { addToBasket(recordId: $r) { entry { id } errors { code } } }",
            {"r": encode("Record", record.id)},
            token=token,
        )
        error = _error(body, "EXECUTION_TIMEOUT")
        assert error["extensions"]["requestId"]  # type: ignore[index]
        assert body["data"] is None
    async with api.app.state.services.sessions() as db:
        entries = await db.execute(
            select(func.count())
            .select_from(models.BasketEntry)
            .where(models.BasketEntry.patron_id == patron.id)
        )
        assert entries.scalar_one() == 0


@pytest.fixture
def unreachable_settings(tmp_path: Path) -> Settings:
    """Settings whose PostgreSQL refuses connections (nothing listens on port 1)."""
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none",
        maildir=tmp_path / "maildir",
        broker_url="memory://",
        _env_file=None,
    )


async def test_database_down_answers_service_unavailable(
    unreachable_settings: Settings, clock: FixedClock
) -> None:
    # SEC: a database that is not there is a clean, retryable SERVICE_UNAVAILABLE, never a
    # 500 or a trace: in a resolver (anonymous search) and before execution (a bearer
    # token the server must look up).
    async with app_client(unreachable_settings, clock) as client:
        body = await client.gql("{ libraries { code } }")
        error = _error(body, "SERVICE_UNAVAILABLE")
        assert error["extensions"]["requestId"]  # type: ignore[index]
        assert "Traceback" not in str(body)
        response = await client.post("{ me { name } }", token="x" * 43)
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert codes(response.json()) == ["SERVICE_UNAVAILABLE"]


async def test_timeouts_and_outages_are_told_apart(database_url: str) -> None:
    # SEC: PostgreSQL cancels a statement past statement_timeout: EXECUTION_TIMEOUT, not an
    # outage. SQLite has no statement timeout; its "database is locked" is contention and
    # answers SERVICE_UNAVAILABLE (retry), not INTERNAL_ERROR.
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url, statement_timeout_ms=50)
        try:
            async with engine.connect() as conn:
                with pytest.raises(DBAPIError) as caught:
                    await conn.execute(text("SELECT pg_sleep(2)"))
            assert is_statement_timeout(caught.value)
            assert not is_unavailable(caught.value)
        finally:
            await engine.dispose()
        return
    path = database_url.split("///", 1)[1]
    holder = sqlite3.connect(path, timeout=0.01, isolation_level=None)
    waiter = sqlite3.connect(path, timeout=0.01, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as locked:
            waiter.execute("BEGIN IMMEDIATE")
        assert is_unavailable(locked.value)
        assert not is_statement_timeout(locked.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        waiter.close()
