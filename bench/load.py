"""Bounded load run: the real API under 100 concurrent clients, then a check of the database.

The script seeds a scratch database (the demo library with part of the MARC sample, a mix of
books, CDs and videos, and load patrons with active passwords and loans), starts
``hondana serve`` on it as a subprocess, and drives it from this process with ``--clients``
concurrent clients for ``--duration`` seconds (or ``--max-requests``, whichever comes first).
The clients send the smartphone app's trusted documents by id (the server runs in
production mode): anonymous ``search`` and ``record``, and, logged in once per patron with a
bearer token, ``myLoans``, ``myHolds``, ``addToBasket`` + ``placeHolds``, ``cancelHold``
and ``renewLoans``. Two clients share each patron, so one patron's writes race each other.

Afterwards it checks in the database that every write the API acknowledged is there (holds
placed, holds cancelled, renewals with their new due dates), that nothing was written that
was not acknowledged, and that no patron holds more than the per-category limits (HOLD-2)
or one title twice (HOLD-4). It prints a summary and exits 1 if any check fails.

    .venv/bin/python bench/load.py                        # PostgreSQL scratch database
    .venv/bin/python bench/load.py --database-url sqlite+aiosqlite:///var/bench/load.db

``bench/drills.py`` reuses the pieces (seed, server, load generator, checks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench" / "api"))

from http_load import Wire  # noqa: E402  (bench/api/http_load.py)
from sqlalchemy import func, or_, select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from models import Copy, Hold, Library, Loan, Patron, Record  # noqa: E402
from models.db import create_engine, create_session_factory  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from policies.circulation import ACTIVE_HOLD_STATES, category, limit_for  # noqa: E402
from policies.clock import library_today  # noqa: E402
from policies.config import CategoryLimits  # noqa: E402
from policies.enums import (  # noqa: E402
    CardKind,
    ContactMethod,
    CopyStatus,
    HoldState,
    LibraryKind,
    MaterialType,
    PasswordState,
)
from schema.shared.ids import decode, encode  # noqa: E402
from server.trusted import MANIFEST  # noqa: E402

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "yomu2468"
HOT_TITLES = 300  # the titles holds and loans crowd on, so queues and HELD_BY_OTHERS happen
# Per-request verdicts that are failures of the service, not business outcomes.
FAILURE_PREFIXES = ("http:", "transport:", "top:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the scratch database and its seed -------------------------------------------------


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_admin(admin_url: str, sql: str) -> None:
    """Run one statement on the server's maintenance database (outside a transaction)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(_dsn(admin_url), timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextlib.contextmanager
def scratch_postgres(admin_url: str, prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``admin_url``, dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}", file=sys.stderr)
        else:
            pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Seed:
    """What the clients need to know of the seeded library."""

    cards: list[str]
    hot: list[int]  # holdable record ids
    records: list[int]  # every record id (record detail)
    words: list[str]  # search words from the titles
    loans: dict[str, list[int]]  # card -> open loan ids
    library_id: int = 0


async def seed(url: str, *, records: int, patrons: int, loans_each: int) -> Seed:
    """Load the demo library into a migrated database, then the load patrons with loans."""
    from server.app import make_hasher
    from server.demo import load_demo
    from server.settings import Settings

    now = datetime.now(UTC)
    today = library_today(now, "Asia/Tokyo")
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    hasher = make_hasher(Settings(_env_file=None))
    try:
        await load_demo(sessions, hasher, now=now, limit=records)
        password_hash = await hasher.hash(PASSWORD)
        async with sessions() as db, db.begin():
            # A mix of categories, so every HOLD-2 limit is reached (ids are consecutive).
            await db.execute(
                update(Record).where(Record.id % 10 == 3).values(material_type=MaterialType.CD)
            )
            await db.execute(
                update(Record).where(Record.id % 20 == 7).values(material_type=MaterialType.VIDEO)
            )
            central = (
                await db.execute(select(Library).where(Library.kind == LibraryKind.CENTRAL))
            ).scalar_one()
            cards = [f"5{i:09d}" for i in range(patrons)]
            people = [
                Patron(
                    card_number=card,
                    name=f"負荷 {i}",
                    birth_date=date(1985, 4, 2),
                    card_kind=CardKind.CITY,
                    card_expires_on=today + timedelta(days=3 * 365),
                    password_hash=password_hash,
                    password_state=PasswordState.ACTIVE,
                    email1=f"load{i}@example.jp",
                    contact_method=ContactMethod.EMAIL,
                    default_pickup_library_id=central.id,
                    created_at=now,
                )
                for i, card in enumerate(cards)
            ]
            db.add_all(people)
            await db.flush()
            holdable = (
                select(Copy.record_id)
                .join(Record, Record.id == Copy.record_id)
                .join(Library, Library.id == Copy.library_id)
                .where(
                    ~Copy.reference_only,
                    ~Copy.from_other_city,
                    Library.kind != LibraryKind.BOOKMOBILE,
                    Record.material_type.in_([MaterialType.BOOK, MaterialType.CD]),
                )
                .distinct()
            )
            hot_ids = sorted((await db.execute(holdable)).scalars())
            rng = random.Random(7)
            hot = sorted(rng.sample(hot_ids, min(HOT_TITLES, len(hot_ids))))
            # Loans on copies of the hot titles first, so holds make renewals refuse.
            free = (
                (
                    await db.execute(
                        select(Copy)
                        .join(Library, Library.id == Copy.library_id)
                        .join(Record, Record.id == Copy.record_id)
                        .where(
                            Copy.status == CopyStatus.AVAILABLE,
                            ~Copy.reference_only,
                            ~Copy.from_other_city,
                            Library.kind != LibraryKind.BOOKMOBILE,
                            Record.material_type == MaterialType.BOOK,
                        )
                        .order_by(Copy.record_id.in_(hot).desc(), Copy.id)
                    )
                )
                .scalars()
                .all()
            )
            loan_rows: dict[str, list[Loan]] = defaultdict(list)
            taken = iter(free)
            for person in people:
                for _ in range(loans_each):
                    copy = next(taken)
                    copy.status = CopyStatus.ON_LOAN
                    loan = Loan(
                        copy_id=copy.id,
                        patron_id=person.id,
                        library_id=copy.library_id,
                        loaned_at=now - timedelta(days=10),
                        due_on=today + timedelta(days=5),
                    )
                    db.add(loan)
                    loan_rows[person.card_number].append(loan)
            await db.flush()
            titles = (await db.execute(select(Record.title).limit(2000))).scalars().all()
            all_ids = sorted((await db.execute(select(Record.id))).scalars())
        words = sorted(
            {w.strip(".,:;/()[]\"'").lower() for t in titles for w in t.split() if len(w) >= 5}
        )
        return Seed(
            cards=cards,
            hot=hot,
            records=all_ids,
            words=[*[w for w in words if w.isalpha()][:500], "東京", "日本", "文学", "history"],
            loans={card: [loan.id for loan in rows] for card, rows in loan_rows.items()},
            library_id=central.id,
        )
    finally:
        await engine.dispose()


# --- the API under test ----------------------------------------------------------------


class ApiServer:
    """``hondana serve`` as a subprocess on a loopback port, with its log in a file."""

    def __init__(self, database_url: str, port: int, log: Path, **env: str) -> None:
        self.port = port
        self.log = log
        self.env = {
            **os.environ,
            "HONDANA_ENV": "production",
            "HONDANA_SECRET_KEY": secrets.token_hex(16),
            "HONDANA_DATABASE_URL": database_url,
            "HONDANA_BROKER_URL": "memory://",
            "HONDANA_LOG_LEVEL": "WARNING",
            # No maintenance window (SVC-1: 03:50-04:20 Tokyo answers 503): a run at any hour.
            "HONDANA_POLICY__MAINTENANCE_START": "00:00",
            "HONDANA_POLICY__MAINTENANCE_END": "00:00",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    label = "the API"

    def command(self) -> list[str]:
        """What runs the server: ``hondana serve`` on the port."""
        hondana = str(Path(sys.executable).parent / "hondana")
        return [hondana, "serve", "--host", "127.0.0.1", "--port", str(self.port)]

    def start(self, timeout: float = 30.0) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command(), env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.label} exited with {self.proc.returncode}; see {self.log}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.label} did not answer within {timeout} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- the clients -----------------------------------------------------------------------


def smartphone_ids() -> dict[str, str]:
    """Operation name -> trusted document id for the app (and RemoveFromBasket of the OPAC)."""
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))["documents"]
    ids: dict[str, str] = {}
    for doc_id, entry in entries.items():
        for use in entry["uses"]:
            if use["client"] == "smartphone" or use["operation"] == "RemoveFromBasket":
                ids.setdefault(use["operation"], doc_id)
    return ids


@dataclass
class Ledger:
    """Every write the API acknowledged, to look for in the database afterwards."""

    placed: dict[int, tuple[int, int]] = field(default_factory=dict)  # hold -> (patron, record)
    cancelled: set[int] = field(default_factory=set)
    renewed: dict[int, str] = field(default_factory=dict)  # loan -> new due date


@dataclass
class Stats:
    """What the clients saw."""

    started: float = 0.0
    requests: int = 0
    by_op: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # http:/transport:/top:
    outcomes: Counter[str] = field(default_factory=Counter)  # payload error codes
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # (seconds since start, op, verdict) of every request, for the drills' outage timing.
    timeline: list[tuple[float, str, str]] = field(default_factory=list)
    samples: dict[str, str] = field(default_factory=dict)  # first body of each failure kind
    no_retry_after: int = 0  # 503 answers without a Retry-After header

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


@dataclass
class PatronState:
    """One patron, shared by its clients."""

    card: str
    patron_id: int
    token: str = ""
    loans: list[int] = field(default_factory=list)
    active: set[int] = field(default_factory=set)  # holds placed and not yet cancelled


def payload_codes(node: Any) -> Iterator[str]:
    """Every ``errors[].code`` inside ``data`` (business outcomes, per item or per payload)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "errors" and isinstance(value, list):
                yield from (e["code"] for e in value if isinstance(e, dict) and "code" in e)
            else:
                yield from payload_codes(value)
    elif isinstance(node, list):
        for item in node:
            yield from payload_codes(item)


class Load:
    """The load generator: a shared HTTP client, the seed, the ledger and the counters."""

    WEIGHTS: ClassVar[dict[str, int]] = {
        "search": 25,
        "record": 15,
        "myLoans": 10,
        "myHolds": 10,
        "hold": 20,
        "cancelHold": 10,
        "renewLoans": 10,
    }

    def __init__(
        self, base_url: str, seed_data: Seed, *, timeout: float = 10.0, connections: int = 120
    ) -> None:
        self.base_url = base_url
        self.seed = seed_data
        self.ids = smartphone_ids()
        self.timeout = timeout
        self.connections = connections
        self.ledger = Ledger()
        self.stats = Stats()
        self.patrons: list[PatronState] = []
        self.budget = 0
        self.deadline = 0.0
        self.http: Wire | None = None

    async def call(
        self, op: str, name: str, variables: dict[str, Any], token: str | None = None
    ) -> dict[str, Any] | None:
        """Send one trusted document; count and classify the answer. ``None`` on a failure."""
        assert self.http is not None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        stats = self.stats
        stats.requests += 1
        stats.by_op[op] += 1
        started = time.monotonic()
        verdict = "ok"
        body: dict[str, Any] | None = None
        request = json.dumps({"documentId": self.ids[name], "variables": variables}).encode()
        try:
            status, fields, payload = await self.http.post("/graphql", request, headers)
            if status != 200:
                verdict = f"http:{status}"
                if status == 503 and "retry-after" not in fields:
                    stats.no_retry_after += 1
                stats.samples.setdefault(verdict, payload[:500].decode("utf-8", "replace"))
            else:
                body = json.loads(payload)
                top = [
                    (e.get("extensions") or {}).get("code", "?") for e in body.get("errors") or []
                ]
                if top:
                    verdict = f"top:{top[0]}"
                    stats.samples.setdefault(verdict, json.dumps(body, ensure_ascii=False)[:500])
                    body = None
                else:
                    stats.outcomes.update(payload_codes(body.get("data")))
        except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError) as exc:
            verdict = f"transport:{type(exc).__name__}"
        done = time.monotonic()
        stats.latencies[op].append(done - started)
        stats.timeline.append((done - stats.started, op, verdict))
        if verdict != "ok":
            stats.failures[verdict] += 1
        return body

    async def login_all(self, cards: list[str]) -> None:
        """Log each patron in once (AUTH-11 counts failures; one credential per request)."""
        for card in cards:
            body = await self.call("login", "Login", {"cardNumber": card, "password": PASSWORD})
            token = (body or {}).get("data", {}).get("login", {}).get("accessToken")
            patron_id = decode(
                "Patron",
                ((body or {}).get("data", {}).get("login", {}).get("patron") or {}).get("id", ""),
            )
            if not token or patron_id is None:
                raise RuntimeError(f"login failed for {card}: {body}")
            self.patrons.append(
                PatronState(card, patron_id, token, loans=list(self.seed.loans.get(card, [])))
            )

    # One client's operations ------------------------------------------------------------

    async def op_search(self, rng: random.Random, _: PatronState) -> None:
        words = " ".join(rng.sample(self.seed.words, rng.choice((1, 1, 2))))
        await self.call("search", "SearchCompact", {"query": words, "first": 20})

    async def op_record(self, rng: random.Random, _: PatronState) -> None:
        rid = rng.choice(self.seed.records)
        await self.call("record", "RecordDetail", {"id": encode("Record", rid)})

    async def op_my_loans(self, _: random.Random, p: PatronState) -> None:
        await self.call("myLoans", "MyLoansCompact", {}, p.token)

    async def op_my_holds(self, _: random.Random, p: PatronState) -> None:
        await self.call("myHolds", "MyHoldsCompact", {}, p.token)

    async def op_hold(self, rng: random.Random, p: PatronState) -> None:
        """The two-step hold: titles into the basket, then placeHolds on those entries."""
        entries: dict[str, int] = {}
        for rid in rng.sample(self.seed.hot, rng.choice((1, 1, 2, 3))):
            body = await self.call(
                "addToBasket", "AddToBasket", {"recordId": encode("Record", rid)}, p.token
            )
            entry = (body or {}).get("data", {}).get("addToBasket", {}).get("entry")
            if entry:
                entries[entry["id"]] = rid
        if not entries:
            return
        body = await self.call(
            "placeHolds", "PlaceHolds", {"basketEntryIds": list(entries)}, p.token
        )
        if body is None:
            return
        leftover = []
        for result in body["data"]["placeHolds"]["results"]:
            hold = result.get("hold")
            if result["ok"] and hold:
                pk = decode("Hold", hold["id"])
                assert pk is not None
                self.ledger.placed[pk] = (p.patron_id, entries[result["basketEntryId"]])
                p.active.add(pk)
            elif result["basketEntryId"] in entries:
                leftover.append(result["basketEntryId"])
        if leftover:  # refused titles would fill the basket (BASKET-1): take them out
            await self.call(
                "removeFromBasket", "RemoveFromBasket", {"basketEntryIds": leftover}, p.token
            )

    async def op_cancel(self, rng: random.Random, p: PatronState) -> None:
        if not p.active:
            return await self.op_my_holds(rng, p)
        pk = rng.choice(sorted(p.active))
        p.active.discard(pk)
        body = await self.call("cancelHold", "CancelHold", {"holdId": encode("Hold", pk)}, p.token)
        payload = (body or {}).get("data", {}).get("cancelHold") or {}
        if not payload.get("errors") and (payload.get("hold") or {}).get("state") == "CANCELLED":
            self.ledger.cancelled.add(pk)
        elif body is None:
            p.active.add(pk)  # not acknowledged either way: may be tried again
        return None

    async def op_renew(self, rng: random.Random, p: PatronState) -> None:
        chosen = rng.sample(p.loans, min(len(p.loans), rng.choice((1, 2, 3))))
        body = await self.call(
            "renewLoans", "RenewLoans", {"loanIds": [encode("Loan", i) for i in chosen]}, p.token
        )
        for result in (body or {}).get("data", {}).get("renewLoans", {}).get("results", []):
            if result["renewed"] and result.get("loan"):
                pk = decode("Loan", result["loanId"])
                assert pk is not None
                self.ledger.renewed[pk] = result["loan"]["dueOn"]

    async def client(self, number: int, patron: PatronState) -> None:
        rng = random.Random(number)
        ops: dict[str, Callable[[random.Random, PatronState], Any]] = {
            "search": self.op_search,
            "record": self.op_record,
            "myLoans": self.op_my_loans,
            "myHolds": self.op_my_holds,
            "hold": self.op_hold,
            "cancelHold": self.op_cancel,
            "renewLoans": self.op_renew,
        }
        names, weights = list(self.WEIGHTS), list(self.WEIGHTS.values())
        while time.monotonic() < self.deadline and self.stats.requests < self.budget:
            await ops[rng.choices(names, weights)[0]](rng, patron)

    async def run(self, clients: int, duration: float, max_requests: int) -> Stats:
        """Log the patrons in, then run ``clients`` clients until the time or the cap."""
        port = int(self.base_url.rsplit(":", 1)[1])
        wire = Wire(port, size=self.connections, timeout=self.timeout)
        try:
            self.http = wire
            self.stats.started = time.monotonic()
            await self.login_all(self.seed.cards)
            self.budget = self.stats.requests + max_requests
            self.stats.started = time.monotonic()
            self.stats.timeline.clear()
            self.deadline = self.stats.started + duration
            await asyncio.gather(
                *(self.client(i, self.patrons[i % len(self.patrons)]) for i in range(clients))
            )
            self.stats.started = time.monotonic() - self.stats.started  # now: elapsed
        finally:
            self.http = None
            wire.close()
        return self.stats


# --- the checks afterwards -------------------------------------------------------------


async def verify(url: str, ledger: Ledger, limits: CategoryLimits, cards: list[str]) -> list[str]:
    """Everything acknowledged is in the database, nothing else was written, and the
    limits hold (HOLD-2, HOLD-4). Returns the problems found (empty: all good)."""
    engine = create_engine(url)
    problems: list[str] = []
    try:
        async with create_session_factory(engine)() as db:
            ids = (
                await db.execute(select(Patron.id).where(Patron.card_number.in_(cards)))
            ).scalars()
            patron_ids = set(ids)
            # A cancelled hold forgets its patron (reading privacy, resolvers/shared/
            # privacy.py): it is found by its id, not by the patron.
            mine = or_(Hold.patron_id.in_(patron_ids), Hold.id.in_(list(ledger.placed)))
            holds = {h.id: h for h in (await db.execute(select(Hold).where(mine))).scalars()}
            for pk, (patron_id, record_id) in ledger.placed.items():
                hold = holds.get(pk)
                want = HoldState.CANCELLED if pk in ledger.cancelled else HoldState.WAITING
                owners = {patron_id, None} if want is HoldState.CANCELLED else {patron_id}
                if hold is None:
                    problems.append(f"lost write: hold {pk} acknowledged but missing")
                elif hold.patron_id not in owners or hold.record_id != record_id:
                    problems.append(f"hold {pk} is for {hold.patron_id}/{hold.record_id}")
                elif hold.state is not want:
                    problems.append(f"hold {pk} is {hold.state}, expected {want}")
            for pk in set(holds) - set(ledger.placed):
                problems.append(f"unacknowledged write: hold {pk} ({holds[pk].state})")
            loans = {
                loan.id: loan
                for loan in (
                    await db.execute(select(Loan).where(Loan.patron_id.in_(patron_ids)))
                ).scalars()
            }
            for pk, due in ledger.renewed.items():
                loan = loans.get(pk)
                if loan is None or loan.due_on.isoformat() != due or loan.renewals < 1:
                    problems.append(f"lost write: renewal of loan {pk} (due {due})")
            unacked = [
                pk for pk, loan in loans.items() if loan.renewals and pk not in ledger.renewed
            ]
            problems += [f"unacknowledged write: loan {pk} renewed" for pk in unacked]
            problems += [
                f"loan {pk} renewed {loan.renewals} times"
                for pk, loan in loans.items()
                if loan.renewals > 1
            ]
            active = (
                await db.execute(
                    select(Hold.patron_id, Record.material_type, func.count())
                    .join(Record, Record.id == Hold.record_id)
                    .where(Hold.patron_id.in_(patron_ids), Hold.state.in_(ACTIVE_HOLD_STATES))
                    .group_by(Hold.patron_id, Record.material_type)
                )
            ).all()
            per_category: Counter[tuple[int | None, Any]] = Counter()
            for holder, material, n in active:
                per_category[(holder, category(material))] += n
            for (holder, cat), n in per_category.items():
                if cat is not None and n > limit_for(limits, cat):
                    problems.append(f"HOLD-2: patron {holder} has {n} active {cat} holds")
            twice = (
                await db.execute(
                    select(Hold.patron_id, Hold.record_id)
                    .where(Hold.patron_id.in_(patron_ids), Hold.state.in_(ACTIVE_HOLD_STATES))
                    .group_by(Hold.patron_id, Hold.record_id)
                    .having(func.count() > 1)
                )
            ).all()
            problems += [f"HOLD-4: patron {p} holds record {r} twice" for p, r in twice]
    finally:
        await engine.dispose()
    return problems


def at_limit(url: str, cards: list[str], limits: CategoryLimits) -> Counter[str]:
    """How many patrons ended at each category's limit (shows the limits were reached)."""

    async def run() -> Counter[str]:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as db:
                rows = (
                    await db.execute(
                        select(Patron.id, Record.material_type, func.count())
                        .join(Hold, Hold.patron_id == Patron.id)
                        .join(Record, Record.id == Hold.record_id)
                        .where(Patron.card_number.in_(cards), Hold.state.in_(ACTIVE_HOLD_STATES))
                        .group_by(Patron.id, Record.material_type)
                    )
                ).all()
        finally:
            await engine.dispose()
        per: Counter[tuple[int, Any]] = Counter()
        for pid, material, n in rows:
            per[(pid, category(material))] += n
        return Counter(
            str(cat.value) for (_, cat), n in per.items() if cat and n == limit_for(limits, cat)
        )

    return asyncio.run(run())


# --- the report ------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def summary(stats: Stats, ledger: Ledger) -> str:
    """The figures, one line each."""
    elapsed = stats.started
    lines = [
        f"requests: {stats.requests:,} in {elapsed:.1f} s = {stats.requests / elapsed:,.0f}/s",
        "by operation (count, p50/p95/p99 ms):",
    ]
    for op, n in sorted(stats.by_op.items()):
        lat = stats.latencies[op]
        lines.append(
            f"  {op:<17} {n:>7,}  {percentile(lat, 0.5) * 1000:7.1f} "
            f"{percentile(lat, 0.95) * 1000:7.1f} {percentile(lat, 0.99) * 1000:7.1f}"
        )
    http = {k: v for k, v in stats.failures.items() if k.startswith("http:")}
    top = {k: v for k, v in stats.failures.items() if k.startswith("top:")}
    transport = {k: v for k, v in stats.failures.items() if k.startswith("transport:")}
    lines += [
        f"HTTP non-200: {sum(http.values())} {dict(http) or ''}",
        f"transport errors (timeouts, resets): {sum(transport.values())} {dict(transport) or ''}",
        f"top-level errors: {sum(top.values())} {dict(top) or ''}",
        f"INTERNAL_ERROR: {stats.failures.get('top:INTERNAL_ERROR', 0)}",
        "business outcomes (payload errors, expected): "
        + (", ".join(f"{k} {v:,}" for k, v in stats.outcomes.most_common()) or "none"),
        f"acknowledged writes: {len(ledger.placed):,} holds placed, "
        f"{len(ledger.cancelled):,} cancelled, {len(ledger.renewed):,} loans renewed",
    ]
    for verdict, sample in stats.samples.items():
        lines.append(f"first {verdict}: {sample}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--patrons", type=int, default=50, help="each shared by clients/patrons")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap on requests")
    parser.add_argument("--records", type=int, default=3000, help="MARC records to load")
    parser.add_argument("--loans", type=int, default=6, help="open loans per patron")
    parser.add_argument("--database-url", help="default: a scratch PostgreSQL database")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.database_url or stack.enter_context(
            scratch_postgres(args.pg_admin_url, "hondana_load", keep=args.keep_db)
        )
        return run_load(url, args)
    return 1


def run_load(url: str, args: argparse.Namespace) -> int:
    started = time.monotonic()
    upgrade(url)
    seed_data = asyncio.run(
        seed(url, records=args.records, patrons=args.patrons, loans_each=args.loans)
    )
    print(
        f"seeded in {time.monotonic() - started:.1f} s: {len(seed_data.records):,} titles, "
        f"{len(seed_data.cards)} patrons with {args.loans} loans each",
        file=sys.stderr,
    )
    log = Path(tempfile.gettempdir()) / f"hondana-load-api-{os.getpid()}.log"
    server = ApiServer(url, free_port(), log)
    server.start()
    try:
        load = Load(server.url, seed_data)
        stats = asyncio.run(load.run(args.clients, args.duration, args.max_requests))
        alive = server.proc is not None and server.proc.poll() is None
    finally:
        server.stop()
    limits = CategoryLimits()
    problems = asyncio.run(verify(url, load.ledger, limits, seed_data.cards))
    print(
        f"database: {make_url(url).get_backend_name()}; clients: {args.clients}; "
        f"patrons: {args.patrons}; API log: {log}"
    )
    print(summary(stats, load.ledger))
    print(
        "patrons at a HOLD-2 limit at the end: "
        + (
            ", ".join(f"{k} {v}" for k, v in at_limit(url, seed_data.cards, limits).items())
            or "none"
        )
    )
    if not alive:
        problems.append("the API process died during the run")
    if stats.failed:
        problems.append(f"{stats.failed} requests failed (HTTP, transport or top-level errors)")
    print(f"lost writes / limit checks: {'OK' if not problems else 'FAILED'}")
    for problem in problems[:50]:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
