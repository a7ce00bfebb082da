"""Concurrent logins cannot get past the lockout (AUTH-11): each attempt is counted in the
database before its password is verified, so sixty wrong passwords sent at once, over two
API processes, cost at most five verifications and leave no room for a right one."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from policies.clock import FixedClock
from server.settings import Settings
from tests.support import Api, Factory, app_client, hondana_serve

LOGIN = (
    "mutation($c: String!, $p: String!) { login(cardNumber: $c, password: $p, delivery: BEARER)"
    " { accessToken errors { code } } }"
)
STAFF_LOGIN = (
    "mutation($c: String!, $p: String!) { staffLogin(username: $c, password: $p,"
    " delivery: BEARER) { accessToken errors { code } } }"
)
# A storm is a race against the verification: at production's cost each one is long enough
# for the other attempts to pile in, as they would in production.
pytestmark = [pytest.mark.production_argon2, pytest.mark.long]
WRONG = 60
LIMIT = 5  # AUTH-11's default: five failures lock the card


def _count_verifications(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the argon2 verifications the app really runs (the real hasher, counted)."""
    hasher = api.app.state.services.hasher
    calls: list[int] = []
    real: Callable[[str | None, str], Awaitable[bool]] = hasher.verify

    async def counted(stored: str | None, password: str) -> bool:
        calls.append(1)
        return await real(stored, password)

    monkeypatch.setattr(hasher, "verify", counted)
    return calls


async def _storm(
    apis: list[Api], document: str, field: str, login_id: str, right: str
) -> tuple[list[str], dict[str, Any]]:
    async def attempt(api: Api, password: str) -> dict[str, Any]:
        body = await api.gql(document, {"c": login_id, "p": password})
        result: dict[str, Any] = body["data"][field]
        return result

    wrong = [attempt(apis[n % len(apis)], f"wrong-{n}") for n in range(WRONG)]
    *answers, last = await asyncio.gather(*wrong, attempt(apis[-1], right))
    assert all(a["accessToken"] is None for a in answers)
    return [a["errors"][0]["code"] for a in answers], last


async def _check(
    codes: list[str], right: dict[str, Any], verifications: int, retry: dict[str, Any]
) -> None:
    # At most LIMIT verifications ran in all; every other attempt was refused unverified.
    assert verifications <= LIMIT, verifications
    failed = codes.count("INVALID_CREDENTIALS")
    assert failed + (1 if right["accessToken"] else 0) <= LIMIT, codes
    # The client address (ten times the card's room) may run out too: RATE_LIMITED.
    assert set(codes) <= {"INVALID_CREDENTIALS", "ACCOUNT_LOCKED", "RATE_LIMITED"}, codes
    if right["accessToken"] is None:
        # The right password came too late: the card is locked, and stays so.
        assert right["errors"][0]["code"] in ("ACCOUNT_LOCKED", "RATE_LIMITED"), right
        assert retry["accessToken"] is None
        assert retry["errors"][0]["code"] in ("ACCOUNT_LOCKED", "RATE_LIMITED"), retry


async def test_sixty_parallel_logins_over_two_processes(
    api: Api,
    factory: Factory,
    settings: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # AUTH-11: the count lives in the database, so a second API process sees it too.
    patron = await factory.patron("yomu2468")
    counted = _count_verifications(api, monkeypatch)
    async with app_client(settings, clock) as other:
        counted_other = _count_verifications(other, monkeypatch)
        codes, right = await _storm([api, other], LOGIN, "login", patron.card_number, "yomu2468")
        retry = (await api.gql(LOGIN, {"c": patron.card_number, "p": "yomu2468"}))["data"]["login"]
    await _check(codes, right, len(counted) + len(counted_other), retry)


async def test_sixty_parallel_staff_logins(
    api: Api, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AUTH-11 for staff accounts (STAFF-1): the same count before the same verification.
    staff = await factory.staff("counter-7", "kauntaa2468")
    counted = _count_verifications(api, monkeypatch)
    codes, right = await _storm([api], STAFF_LOGIN, "staffLogin", staff.username, "kauntaa2468")
    retry = (await api.gql(STAFF_LOGIN, {"c": staff.username, "p": "kauntaa2468"}))["data"][
        "staffLogin"
    ]
    await _check(codes, right, len(counted), retry)


async def test_sixty_parallel_logins_over_two_hondana_serve_processes(
    api: Api, factory: Factory, database_url: str, tmp_path: Path
) -> None:
    # AUTH-11 across real processes: two `hondana serve` over one database. Four wrong
    # passwords are verified and answered INVALID_CREDENTIALS, the fifth locks the card
    # (ACCOUNT_LOCKED); every other attempt is refused unverified, so at most five
    # INVALID_CREDENTIALS-or-token answers come back in all.
    patron = await factory.patron("yomu2468")
    env = {
        **os.environ,
        "HONDANA_DATABASE_URL": database_url,
        "HONDANA_MAILDIR": str(tmp_path / "maildir"),
        "HONDANA_BROKER_URL": "memory://",
    }
    with hondana_serve(env) as first, hondana_serve(env) as second:
        async with (
            httpx.AsyncClient(base_url=first, timeout=60) as one,
            httpx.AsyncClient(base_url=second, timeout=60) as two,
        ):

            async def attempt(client: httpx.AsyncClient, password: str) -> dict[str, Any]:
                variables = {"c": patron.card_number, "p": password}
                answer = await client.post(
                    "/graphql", json={"query": LOGIN, "variables": variables}
                )
                body = answer.json()
                if body.get("data") is None:  # refused whole: keep its code for the checks
                    return {"accessToken": None, "errors": [body["errors"][0]["extensions"]]}
                result: dict[str, Any] = body["data"]["login"]
                return result

            wrong = [attempt((one, two)[n % 2], f"wrong-{n}") for n in range(WRONG)]
            *answers, right = await asyncio.gather(*wrong, attempt(two, "yomu2468"))
            retry = await attempt(one, "yomu2468")
    codes = [a["errors"][0]["code"] for a in answers]
    await _check(codes, right, 0, retry)


async def test_a_storm_on_one_card_holds_one_connection_at_its_row_lock(
    api: Api, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AUTH-11: attempts at one card queue in memory for their turn at the card's throttle
    # row, one at a time per process, instead of each holding a pooled connection while it
    # waits on the row lock: sixty parallel logins at one card leave the pool to everyone
    # else (they used to exhaust it on a loaded machine: "database unavailable").
    from resolvers.accounts import throttle

    patron = await factory.patron("yomu2468")
    inside: dict[str, int] = {}
    most: dict[str, int] = {}
    real = throttle._locked_row

    async def counted(db: Any, key: str) -> Any:
        inside[key] = inside.get(key, 0) + 1
        most[key] = max(most.get(key, 0), inside[key])
        try:
            return await real(db, key)
        finally:
            inside[key] -= 1

    monkeypatch.setattr(throttle, "_locked_row", counted)
    pool = api.app.state.engine.sync_engine.pool
    out, most_out = 0, 0

    def checkout(*_: Any) -> None:
        nonlocal out, most_out
        out += 1
        most_out = max(most_out, out)

    def checkin(*_: Any) -> None:
        nonlocal out
        out -= 1

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        codes, _ = await _storm([api], LOGIN, "login", patron.card_number, "yomu2468")
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
    assert set(codes) <= {"INVALID_CREDENTIALS", "ACCOUNT_LOCKED", "RATE_LIMITED"}
    assert most and set(most.values()) == {1}, most  # the card's row and the address's
    # Counted before it is looked up: the attempts the count refuses never take a
    # connection for the lookup, so the storm holds a few connections, not the pool (20).
    assert most_out <= LIMIT, most_out
