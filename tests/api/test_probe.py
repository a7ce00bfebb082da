"""The outside probe's requests against a real ``hondana serve`` (issue [R2 3/9]): each
gets a clear refusal, and the server keeps answering ``/healthz`` meanwhile."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from tests.support import HONDANA, ROOT, hondana_serve

HEADERS = {"X-Hondana-Client": "tests"}


class Served(NamedTuple):
    """The server's URL and its SQLite database file."""

    url: str
    database: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`hondana migrate` and `hondana serve` (development, the default) on a free port."""
    home = tmp_path_factory.mktemp("probe")
    env = {
        **os.environ,
        "HONDANA_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'probe.db'}",
        "HONDANA_MAILDIR": str(home / "maildir"),
        "HONDANA_BROKER_URL": "memory://",
    }
    subprocess.run([*HONDANA, "migrate"], env=env, cwd=ROOT, check=True)  # noqa: S603
    with hondana_serve(env) as url:
        yield Served(url, home / "probe.db")


@pytest.fixture
def server(served: Served) -> str:
    return served.url


def ladder(levels: int) -> str:
    """Fragments that each spread the next one twice: 2^levels selections once expanded."""
    rungs = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"query {{ ...F0 }} {rungs} fragment F{levels} on Query {{ a: libraries {{ code }} }}"


async def _while_healthz(server: str, request: dict[str, Any]) -> httpx.Response:
    """Send ``request`` to /graphql and, while it is in flight, ask /healthz; both must
    answer (a client timeout ends a server that froze: the test then fails)."""
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        request = {**request, "headers": {**HEADERS, **request.get("headers", {})}}
        probe = asyncio.create_task(client.post("/graphql", **request))
        await asyncio.sleep(0)  # the probe's request goes out first
        health = await client.get("/healthz")
        assert health.status_code == 200
        return await probe


@pytest.mark.parametrize("levels", [30, 60])
async def test_fragment_ladder_is_refused_and_healthz_answers(server: str, levels: int) -> None:
    # SEC: validation work is linear in the document (each fragment counted once).
    answer = await _while_healthz(server, {"json": {"query": ladder(levels)}})
    assert answer.status_code == 200
    codes = {e["extensions"]["code"] for e in answer.json()["errors"]}
    assert "QUERY_TOO_COMPLEX" in codes, codes
    assert answer.json()["data"] is None


LOGIN = 'mutation { login(cardNumber: "2000000001", password: "guess-1234") { errors { code } } }'


def _throttle_keys(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        return {key for (key,) in db.execute("SELECT key FROM login_throttle")}


@pytest.mark.parametrize(
    "forwarded", ["1" * 200, "203.0.113.9", "not-an-address", "203.0.113.9, 198.51.100.7"]
)
async def test_forwarded_for_is_not_trusted_by_default(served: Served, forwarded: str) -> None:
    # AUTH-11: no proxy is trusted unless configured, so a client cannot pick the address
    # its failures count against (nor break the count with an address the key can't hold).
    headers = {**HEADERS, "X-Forwarded-For": forwarded}
    answer = await _while_healthz(served.url, {"json": {"query": LOGIN}, "headers": headers})
    assert answer.json()["data"]["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    keys = _throttle_keys(served.database)
    assert {k for k in keys if k.startswith("login-ip:")} == {"login-ip:127.0.0.1"}, keys


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"query": "{ libraries { code } }", "variables": {"c": "\\ud800"}}', "INVALID_UNICODE"),
        ("[" * 20_000 + "]" * 20_000, "TOO_DEEP"),
    ],
    ids=["lone-surrogate", "deep-json"],
)
async def test_malformed_bodies_are_refused_and_healthz_answers(
    server: str, body: str, reason: str
) -> None:
    # SEC: clear 400 BAD_REQUEST refusals, never a 500, the server answering meanwhile.
    request = {"content": body, "headers": {"content-type": "application/json"}}
    answer = await _while_healthz(server, request)
    assert answer.status_code == 400, answer.text
    error = answer.json()["errors"][0]["extensions"]
    assert (error["code"], error["reason"]) == ("BAD_REQUEST", reason)
