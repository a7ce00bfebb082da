"""The outside probe's requests against a real ``hondana serve`` (issue [R2 3/9]): each
gets a clear refusal, and the server keeps answering ``/healthz`` meanwhile."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"X-Hondana-Client": "tests"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`hondana migrate` and `hondana serve` (development, the default) on a free port."""
    home = tmp_path_factory.mktemp("probe")
    env = {
        **os.environ,
        "HONDANA_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'probe.db'}",
        "HONDANA_MAILDIR": str(home / "maildir"),
        "HONDANA_BROKER_URL": "memory://",
    }
    hondana = [sys.executable, "-m", "server.cli"]
    subprocess.run([*hondana, "migrate"], env=env, cwd=ROOT, check=True)  # noqa: S603
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603
        [*hondana, "serve", "--port", str(port)], env=env, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a server frozen by a request it cannot refuse
            process.kill()
            process.wait()


def ladder(levels: int) -> str:
    """Fragments that each spread the next one twice: 2^levels selections once expanded."""
    rungs = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"query {{ ...F0 }} {rungs} fragment F{levels} on Query {{ a: libraries {{ code }} }}"


async def _while_healthz(server: str, request: dict[str, Any]) -> httpx.Response:
    """Send ``request`` to /graphql and, while it is in flight, ask /healthz; both must
    answer (a client timeout ends a server that froze: the test then fails)."""
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        probe = asyncio.create_task(client.post("/graphql", headers=HEADERS, **request))
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
