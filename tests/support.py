"""Test helpers: a GraphQL client over ASGI and factories for database rows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

import models
from models import Copy, Library, Loan, Patron, Record, StaffUser
from policies.clock import FixedClock, library_today
from policies.enums import (
    CardKind,
    ContactMethod,
    CopyStatus,
    LibraryKind,
    MaterialType,
    PasswordState,
    StaffRole,
)
from resolvers.catalogue import search_index
from resolvers.shared.context import Services
from server.app import create_app
from server.settings import Settings
from server.trusted import manifest_text

CLIENT_HEADERS = {"X-Hondana-Client": "tests"}
ROOT = Path(__file__).resolve().parents[1]
HONDANA = [sys.executable, "-m", "server.cli"]


def redis_of_this_worker(url: str) -> str:
    """``url`` with a Redis database of this pytest-xdist worker's own (1-8; the e2e test
    takes 9): Celery's broadcast control (ping, inspect) is per database, so one worker's
    test never hears another worker's Celery processes. Unchanged outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, last = url.rpartition("/")
    root = base if last.isdigit() else url.rstrip("/")
    return f"{root}/{1 + int(worker[2:]) % 8}"


# Every table, children first, in one script: the database is emptied before each test,
# and a DELETE statement at a time through the ORM cost ~25 ms a test (24 tables), more
# than most tests themselves.
_EMPTY_ALL = "".join(
    f'DELETE FROM "{table.name}";'  # noqa: S608 - the names of our own tables
    for table in reversed(models.Base.metadata.sorted_tables)
)


async def empty_database(engine: AsyncEngine) -> None:
    """Delete every row of every table, in one round trip and one transaction."""
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        if engine.dialect.name == "sqlite":
            await raw.executescript(f"BEGIN;{_EMPTY_ALL}COMMIT;")
        else:  # asyncpg: a query without arguments goes as one simple query, one transaction
            await raw.execute(_EMPTY_ALL)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# A server a test starts runs on the real clock, and from 03:50 to 04:20 Tokyo time (SVC-1's
# nightly window) it would answer only MAINTENANCE: every served test failed for half an
# hour a day. Start and end alike mean no window (policies/service.py); a test about the
# window sets its own.
NO_MAINTENANCE = {
    "HONDANA_POLICY__MAINTENANCE_START": "00:00",
    "HONDANA_POLICY__MAINTENANCE_END": "00:00",
}


@contextmanager
def hondana_serve(env: dict[str, str]) -> Iterator[str]:
    """`hondana serve` as users start it, on a free port, outside the maintenance window:
    its URL once /healthz answers. Stopped afterwards (killed if a request froze it)."""
    port = free_port()
    env = {**NO_MAINTENANCE, **env}
    process = subprocess.Popen([*HONDANA, "serve", "--port", str(port)], env=env, cwd=ROOT)  # noqa: S603
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
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def production_settings(settings: Settings, tmp_path: Path) -> Settings:
    """``settings`` in production mode: the front ends' manifest and a proper secret key."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(manifest_text(), encoding="utf-8")
    return settings.model_copy(
        update={
            "env": "production",
            "secret_key": SecretStr("production-test-secret-0123456789-abcdef"),
            "trusted_documents": manifest,
        }
    )


class Api:
    """Sends GraphQL documents through the real ASGI app (middleware included)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://hondana.test"
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        cookies: bool = False,
    ) -> httpx.Response:
        """POST a document; ``token`` as bearer, or ``cookies=True`` to use the jar."""
        sent = dict(CLIENT_HEADERS) if cookies else {}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        if not cookies:
            self.http.cookies.clear()
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )

    async def by_id(
        self, document_id: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        """POST a trusted document by id, as the front ends do."""
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        self.http.cookies.clear()
        return await self.http.post(
            "/graphql",
            json={"documentId": document_id, "variables": variables or {}},
            headers=sent,
        )

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """POST and return the JSON body, asserting the HTTP status is 200."""
        response = await self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(self, card_number: str, password: str) -> str:
        """Log in as a patron with a bearer token and return it."""
        body = await self.gql(
            "mutation($c: String!, $p: String!) { login(cardNumber: $c, password: $p, delivery: BEARER)"
            " { accessToken errors { code } } }",
            {"c": card_number, "p": password},
        )
        token = body["data"]["login"]["accessToken"]
        assert token, body
        return str(token)

    async def staff_login(self, username: str, password: str) -> str:
        body = await self.gql(
            "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p, delivery: BEARER)"
            " { accessToken errors { code } } }",
            {"u": username, "p": password},
        )
        token = body["data"]["staffLogin"]["accessToken"]
        assert token, body
        return str(token)


@asynccontextmanager
async def app_client(settings: Settings, clock: FixedClock | None = None) -> AsyncIterator[Api]:
    """A second app on other settings (a broken database, a tiny timeout) and its client,
    closed and its engine disposed afterwards."""
    app = create_app(settings, clock=clock, notify=lambda: None)
    client = Api(app)
    try:
        yield client
    finally:
        await client.aclose()
        await app.state.engine.dispose()


def codes(body: dict[str, Any]) -> list[str]:
    """The ``extensions.code`` of every top-level error."""
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


@dataclass
class Factory:
    """Rows straight into the database, with sensible defaults."""

    services: Services
    clock: FixedClock

    def __post_init__(self) -> None:
        self._seq = count(1)

    def today(self) -> date:
        return library_today(self.clock.now(), "Asia/Tokyo")

    async def add(self, *rows: Any) -> None:
        async with self.services.sessions() as db, db.begin():
            db.add_all(rows)

    async def reindex(self, *record_ids: int) -> None:
        """Bring the search index up to date for titles the factory wrote directly."""
        async with self.services.sessions() as db, db.begin():
            await search_index.sync(db, record_ids)

    async def library(
        self, code: str = "", kind: LibraryKind = LibraryKind.CENTRAL, **kw: Any
    ) -> Library:
        n = next(self._seq)
        lib = Library(
            code=code or f"L{n}",
            name=kw.pop("name", f"図書館{n}"),
            name_en=f"Library {n}",
            kind=kind,
            takes_holds=kw.pop("takes_holds", True),
            closed_weekdays=kw.pop("closed_weekdays", ""),
            position=n,
        )
        await self.add(lib)
        return lib

    async def patron(
        self,
        password: str | None = "yomu2468",
        *,
        state: PasswordState | None = None,
        card_number: str | None = None,
        expires_in_days: int = 365,
        **kw: Any,
    ) -> Patron:
        n = next(self._seq)
        patron = Patron(
            card_number=card_number or f"2{n:09d}",
            name=kw.pop("name", f"利用者 {n}"),
            birth_date=kw.pop("birth_date", date(1990, 5, 17)),
            card_kind=kw.pop("card_kind", CardKind.CITY),
            card_expires_on=self.today() + timedelta(days=expires_in_days),
            password_hash=kw.pop("password_hash", None)
            or (await self.services.hasher.hash(password) if password else None),
            password_state=state or (PasswordState.ACTIVE if password else PasswordState.NONE),
            contact_method=kw.pop("contact_method", ContactMethod.NONE),
            created_at=kw.pop("created_at", self.clock.now()),
            **kw,
        )
        await self.add(patron)
        return patron

    async def staff(
        self,
        username: str = "desk",
        password: str = "staffpass1",
        roles: set[StaffRole] | None = None,
    ) -> StaffUser:
        user = StaffUser(
            username=username,
            name="職員",
            password_hash=await self.services.hasher.hash(password),
            roles=",".join(sorted(roles if roles is not None else {StaffRole.COUNTER})),
            created_at=self.clock.now(),
        )
        await self.add(user)
        return user

    async def record(self, title: str = "吾輩は猫である", **kw: Any) -> Record:
        n = next(self._seq)
        now = self.clock.now()
        rec = Record(
            control_number=kw.pop("control_number", f"test{n}"),
            title=title,
            material_type=kw.pop("material_type", MaterialType.BOOK),
            created_at=now,
            updated_at=now,
            **kw,
        )
        await self.add(rec)
        await self.reindex(rec.id)
        return rec

    async def copy(self, record: Record, library: Library, **kw: Any) -> Copy:
        n = next(self._seq)
        copy = Copy(
            barcode=kw.pop("barcode", f"9{n:08d}"),
            record_id=record.id,
            library_id=library.id,
            current_library_id=library.id,
            status=kw.pop("status", CopyStatus.AVAILABLE),
            created_at=self.clock.now(),
            **kw,
        )
        await self.add(copy)
        await self.reindex(record.id)
        return copy

    async def loan(self, patron: Patron, copy: Copy, *, due_in_days: int) -> Loan:
        loan = Loan(
            copy_id=copy.id,
            patron_id=patron.id,
            library_id=copy.library_id,
            loaned_at=self.clock.now() - timedelta(days=10),
            due_on=self.today() + timedelta(days=due_in_days),
        )
        await self.add(loan)
        return loan
