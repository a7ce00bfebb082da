"""Fault drills (issue [7/8]): PostgreSQL restarted under load, Redis stopped or hung.

Every drill runs on its OWN PostgreSQL cluster and Redis (temporary directories, free ports),
never on the shared servers. One seed (``bench/load.py``'s, smaller) goes into a template
database; each drill gets a fresh copy of it, its own ``hondana serve`` (production mode)
and ``bench/load.py``'s load generator.

- ``pg-fast``: ``pg_ctl restart -m fast`` under load. ``pg-immediate``: ``pg_ctl stop -m
  immediate``, down for ``--pg-down`` seconds, then start. Each checks that failed requests
  answered only ``SERVICE_UNAVAILABLE`` (HTTP 503 with Retry-After, or that code in a 200
  GraphQL answer), times the recovery, checks the API kept its PID, and afterwards that no
  acknowledged write was lost and HOLD-2/HOLD-4 hold (``load.verify``).
- ``redis-stop`` (Redis killed) and ``redis-hang`` (``kill -STOP``): Redis is the broker of
  the API and of a real Celery worker with beat (``hondana worker --beat``) sending by SMTP
  to a counting sink (``bench/smtp_sink.py``). Under load, plus password resets that each
  owe a mail at once (AUTH-8), the broker fails: every request must still be answered,
  ``/readyz`` must say the broker is down, and once Redis is back every owed mail must
  reach the sink exactly once.

    .venv/bin/python bench/drills.py                       # all four drills
    .venv/bin/python bench/drills.py --only pg-fast redis-hang --clients 30

It prints a markdown summary and exits 1 when any drill fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from load import ROOT, ApiServer, Load, Seed, free_port, percentile, pg_admin, seed, verify
from private_services import PrivatePostgres, Process, wait_for_port
from sqlalchemy import select
from sqlalchemy.engine import make_url

from models import OutboxMessage
from models.db import create_engine
from models.migrate import upgrade
from policies.config import CategoryLimits
from server.trusted import MANIFEST

CLEAN = ("http:503", "top:SERVICE_UNAVAILABLE")  # the answers an outage may give


@dataclasses.dataclass
class Report:
    """One drill's figures (markdown lines) and whether it passed."""

    name: str
    lines: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)
        print(f"[{self.name}] {line}", file=sys.stderr, flush=True)

    def markdown(self) -> str:
        verdict = "PASSED" if not self.problems else "FAILED"
        return "\n".join([f"### {self.name}: {verdict}", "", *(f"- {x}" for x in self.lines),
                          *(f"- **problem:** {p}" for p in self.problems), ""])  # fmt: skip


def verdicts(load: Load, start: float, end: float) -> Counter[str]:
    return Counter(v for t, _, v in load.stats.timeline if start <= t < end)


def latency_line(load: Load, start: float, end: float, op: str | None = None) -> str:
    """p50/p95/max of requests that ended in [start, end) (the timeline has end times)."""
    lat = [load.stats.latencies[o][i] for o, i in _indexes(load, start, end, op)]
    if not lat:
        return "no requests"
    return (f"{len(lat)} requests, p50 {percentile(lat, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(lat, 0.95) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms")  # fmt: skip


def _indexes(load: Load, start: float, end: float, op: str | None) -> Iterator[tuple[str, int]]:
    seen: Counter[str] = Counter()
    for t, o, _ in load.stats.timeline:
        i = seen[o]
        seen[o] += 1
        if start <= t < end and (op is None or o == op):
            yield o, i


async def load_clock(load: Load) -> Callable[[], float]:
    """Once the clients start: a clock on the load's timeline (seconds since its start)."""
    while load.deadline == 0.0:  # noqa: ASYNC110 - Load has no event to wait on
        await asyncio.sleep(0.05)
    base = load.stats.started
    return lambda: time.monotonic() - base


async def run_with_fault(load: Load, clients: int, duration: float,
                         fault: Callable[[Callable[[], float]], None]) -> None:  # fmt: skip
    """The load for ``duration`` seconds; ``fault`` runs in a thread once the clients
    start, given a clock on the load's timeline (seconds since its start)."""

    async def inject() -> None:
        await asyncio.to_thread(fault, await load_clock(load))

    await asyncio.gather(load.run(clients, duration, 10_000_000), inject())


def after_checks(report: Report, url: str, load: Load, cards: list[str], api: ApiServer,
                 pid: int) -> None:  # fmt: skip
    """The same API process still serving, no acknowledged write lost, HOLD-2/4 intact."""
    alive = api.proc is not None and api.proc.poll() is None and api.proc.pid == pid
    report.add(f"API process: PID {pid} {'still serving, never restarted' if alive else 'GONE'}")
    if not alive:
        report.problems.append("the API process did not survive")
    problems = asyncio.run(verify(url, load.ledger, CategoryLimits(), cards))
    unacked = [p for p in problems if p.startswith("unacknowledged")]
    lost = [p for p in problems if not p.startswith("unacknowledged")]
    led = load.ledger
    report.add(f"acknowledged writes: {len(led.placed)} holds placed, {len(led.cancelled)} "
               f"cancelled, {len(led.renewed)} renewals; lost or limit problems: {len(lost)}; "
               f"committed but answered as failures: {len(unacked)}")  # fmt: skip
    report.problems += lost[:20]
    for p in unacked[:5]:
        report.add(f"  ({p})")


def pg_drill(name: str, pg: PrivatePostgres, url: str, data: Seed, args: argparse.Namespace,
             workdir: Path) -> Report:  # fmt: skip
    report = Report(name)
    api = ApiServer(url, free_port(), workdir / f"api-{name}.log")
    api.start()
    try:
        assert api.proc is not None
        pid = api.proc.pid
        load = Load(api.url, data, timeout=args.timeout)
        marks: dict[str, float] = {}

        def fault(now: Callable[[], float]) -> None:
            time.sleep(args.warmup)
            marks["down"] = now()
            if name == "pg-fast":
                pg.ctl("restart", "-m", "fast")
            else:
                pg.ctl("stop", "-m", "immediate")
                marks["stopped"] = now()
                time.sleep(args.pg_down)
                pg.ctl("start")
            marks["up"] = now()

        asyncio.run(run_with_fault(load, args.clients, args.duration, fault))
        down, up = marks["down"], marks["up"]
        timeline = load.stats.timeline
        failed = [(t, v) for t, _, v in timeline if v != "ok"]
        by_code = Counter(v for _, v in failed)
        first_ok = min((t for t, _, v in timeline if v == "ok" and t > up), default=None)
        last_fail = max((t for t, _ in failed), default=None)
        report.add(f"load: {args.clients} clients, {len(timeline):,} requests in "
                   f"{args.duration:.0f} s; before the fault {latency_line(load, 0, down)}")  # fmt: skip
        report.add(f"PostgreSQL down at t={down:.1f} s, accepting again at t={up:.1f} s "
                   f"(outage {up - down:.1f} s)")  # fmt: skip
        report.add(f"failed requests: {len(failed)} of {len(timeline):,} "
                   f"({dict(by_code) or 'none'}); 503 without Retry-After: "
                   f"{load.stats.no_retry_after}")  # fmt: skip
        if first_ok is not None:
            report.add(f"first successful request {first_ok - up:.2f} s after PostgreSQL was "
                       f"back; last failure at {(last_fail or up) - up:+.2f} s from then")  # fmt: skip
        report.add(f"after the outage: {latency_line(load, up + 5, args.duration + 60)}")
        unclean = {k: v for k, v in by_code.items() if k not in CLEAN}
        if unclean:
            report.problems.append(f"answers other than SERVICE_UNAVAILABLE: {unclean}")
            for verdict, body in load.stats.samples.items():
                if verdict in unclean:
                    report.add(f"  first {verdict}: {body[:300]}")
        if load.stats.no_retry_after:
            report.problems.append("503 answers without Retry-After")
        if first_ok is None or first_ok - up > args.recover_within:
            report.problems.append(f"no successful request within {args.recover_within} s")
        if last_fail is not None and last_fail - up > args.recover_within:
            report.problems.append(f"requests still failing {last_fail - up:.1f} s after")
        after_checks(report, url, load, data.cards, api, pid)
    finally:
        api.stop()
    return report


def readyz(base: str) -> str:
    with contextlib.suppress(httpx.HTTPError):
        r = httpx.get(f"{base}/readyz", timeout=10)
        return f"{r.status_code} {r.json()}"
    return "no answer"


def redis_drill(name: str, url: str, data: Seed, mail_cards: list[str],
                args: argparse.Namespace, workdir: Path) -> Report:  # fmt: skip
    report = Report(name)
    rport, sport = free_port(), free_port()
    ids_file = workdir / f"sink-{name}.ids"
    ids_file.touch()
    broker = f"redis://127.0.0.1:{rport}/0"
    redis = Process(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--daemonize", "no"], workdir / f"redis-{name}.log")  # fmt: skip
    sink = Process([sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(sport),
                    str(workdir / f"sink-{name}.count"), str(ids_file)],
                   workdir / f"sink-{name}.log")  # fmt: skip
    env = {"HONDANA_DATABASE_URL": url, "HONDANA_BROKER_URL": broker,
           "HONDANA_MAIL_SENDER": "smtp", "HONDANA_SMTP_PORT": str(sport),
           # The drill resets the same cards many times from one address (AUTH-8 throttle).
           "HONDANA_POLICY__LOCKOUT_FAILURES": "100000"}  # fmt: skip
    worker = Process([str(Path(sys.executable).parent / "hondana"), "worker", "--beat", "--",
                      "--concurrency", "1", "--schedule", str(workdir / f"beat-{name}")],
                     workdir / f"worker-{name}.log", env={**os.environ, **env,
                     "HONDANA_LOG_LEVEL": "INFO", "HONDANA_ENV": "production",
                     "HONDANA_SECRET_KEY": secrets.token_hex(32)}, cwd=workdir)  # fmt: skip
    api = ApiServer(url, free_port(), workdir / f"api-{name}.log", **env)
    parts = [redis, sink, worker]
    try:
        redis.start()
        wait_for_port(rport)
        sink.start()
        wait_for_port(sport)
        worker.start()
        api.start()
        assert api.proc is not None
        pid = api.proc.pid
        load = Load(api.url, data, timeout=args.timeout)
        load.ids["RequestPasswordReset"] = next(
            d for d, e in json.loads(MANIFEST.read_text())["documents"].items()
            if any(u["operation"] == "RequestPasswordReset" for u in e["uses"]))  # fmt: skip
        marks: dict[str, float] = {}
        probes: dict[str, str] = {}
        resets: list[tuple[float, bool]] = []  # (time, accepted)

        quiet = threading.Event()  # set by the last reset loop to stop

        async def resetter(now: Callable[[], float], i: int) -> None:
            """Password resets, each owing a mail at once, from the start until just before
            Redis is back (so after it only the beat, not a fresh nudge, can send them)."""
            while "quiet" not in marks:
                card = mail_cards[i % len(mail_cards)]
                email = f"load{int(card) - 5_000_000_000}@example.jp"
                body = await load.call("reset", "RequestPasswordReset",
                                       {"cardNumber": card, "email": email})  # fmt: skip
                payload = (body or {}).get("data", {}).get("requestPasswordReset") or {}
                resets.append((now(), bool(payload.get("accepted")) and not payload["errors"]))
                i += args.resetters
                await asyncio.sleep(0.3)

        def fault(now: Callable[[], float]) -> None:
            time.sleep(args.warmup)
            marks["down"] = now()
            if name == "redis-stop":
                redis.stop()
            else:
                redis.signal(signal.SIGSTOP)
            time.sleep(3)
            probes["down"] = readyz(api.url)
            time.sleep(max(0.0, args.redis_down - 3))
            marks["quiet"] = now()
            quiet.wait(60)  # the resets under way finish (Redis still down)
            if name == "redis-stop":
                redis.start()
                wait_for_port(rport)
            else:
                redis.signal(signal.SIGCONT)
            marks["up"] = now()
            # Wait for every owed mail (resets stop now) to reach the sink.
            deadline = time.monotonic() + args.mail_within
            while time.monotonic() < deadline:
                owed = asyncio.run(outbox_ids(url))
                if owed and owed <= delivered_ids(ids_file):
                    marks["mails"] = now()
                    return
                time.sleep(0.5)

        async def drive() -> None:
            async def with_resets() -> None:
                now = await load_clock(load)
                await asyncio.gather(*(resetter(now, i) for i in range(args.resetters)))
                quiet.set()

            await asyncio.gather(run_with_fault(load, args.clients, args.duration, fault),
                                 with_resets())  # fmt: skip

        asyncio.run(drive())
        down, up = marks["down"], marks["up"]
        owed = asyncio.run(outbox_ids(url))
        failed = Counter(v for _, _, v in load.stats.timeline if v != "ok")
        report.add(f"load: {args.clients} clients + {args.resetters} loops of password resets; Redis down "
                   f"from t={down:.1f} to t={up:.1f} s ({up - down:.1f} s); the last reset answered "
                   f"at t={max(t for t, _ in resets):.1f} s, before Redis was back")  # fmt: skip
        report.add(f"failed requests: {sum(failed.values())} of {len(load.stats.timeline):,} "
                   f"({dict(failed) or 'none'})")  # fmt: skip
        if failed:
            report.problems.append(f"requests failed while only the broker was down: {failed}")
        report.add(f"all requests before: {latency_line(load, 0, down)}; "
                   f"while down: {latency_line(load, down, up)}")  # fmt: skip
        report.add(f"resets before: {latency_line(load, 0, down, 'reset')}; "
                   f"while down: {latency_line(load, down, up, 'reset')}")  # fmt: skip
        acked = sum(1 for _, ok in resets if ok)
        during = sum(1 for t, ok in resets if ok and down <= t < up)
        report.add(f"mails owed: {acked} resets acknowledged ({during} while Redis was down), "
                   f"{len(owed)} temporary-password rows in the outbox")  # fmt: skip
        if acked != len(owed):
            report.problems.append(f"{acked} resets acknowledged but {len(owed)} outbox rows")
        down_probe = probes.get("down", "not taken")
        report.add(f"/readyz 3 s into the outage: {down_probe}")
        if not down_probe.startswith("503") or "'database': 'ok'" not in down_probe:
            report.problems.append("/readyz did not report the broker down and the database up")
        delivered = Counter(x.split(".")[1] for x in ids_file.read_text().split())
        when = f"{marks['mails'] - up:.1f} s" if "mails" in marks else "NOT within the wait"
        report.add(f"mails delivered: {len(set(delivered) & owed)} of {len(owed)} owed, "
                   f"{sum(n - 1 for n in delivered.values())} duplicated; the last owed mail "
                   f"arrived {when} after Redis was back")  # fmt: skip
        if owed - set(delivered):
            report.problems.append(f"{len(owed - set(delivered))} owed mails not delivered")
        if any(n > 1 for n in delivered.values()):
            report.problems.append("a mail was delivered twice")
        ready = readyz(api.url)
        report.add(f"/readyz after Redis was back: {ready}")
        after_checks(report, url, load, data.cards, api, pid)
    finally:
        api.stop()
        for part in reversed(parts):
            part.stop()
    return report


def delivered_ids(ids_file: Path) -> set[str]:
    """Outbox ids of the mails at the sink (Message-ID ``<kind.id.digest@domain>``)."""
    return {x.split(".")[1] for x in ids_file.read_text().split()}


async def outbox_ids(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(OutboxMessage.id).where(OutboxMessage.kind == "temporary_password")
            )
            return {str(r) for r in rows.scalars()}
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    drills = ["pg-fast", "pg-immediate", "redis-stop", "redis-hang"]
    parser.add_argument("--only", nargs="+", choices=drills, default=drills)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--patrons", type=int, default=20, help="load patrons (2 clients each)")
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=45.0, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=12.0, help="seconds before the fault")
    parser.add_argument("--pg-down", type=float, default=5.0, help="pg-immediate: seconds down")
    parser.add_argument("--redis-down", type=float, default=15.0, help="seconds down")
    parser.add_argument("--resetters", type=int, default=3, help="password-reset loops")
    parser.add_argument("--timeout", type=float, default=15.0, help="client timeout, seconds")
    parser.add_argument("--recover-within", type=float, default=10.0)
    parser.add_argument("--mail-within", type=float, default=150.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="hondana-drills-"))
    reports: list[Report] = []
    pg: PrivatePostgres | None = None
    try:
        pg = PrivatePostgres(workdir)
        pg.ctl("start")
        template = make_url(pg.admin_url).set(database="drill_seed")
        pg_admin(pg.admin_url, 'CREATE DATABASE "drill_seed"')
        seed_url = template.render_as_string(hide_password=False)
        upgrade(seed_url)
        mail_patrons = 10
        full = asyncio.run(seed(seed_url, records=args.records,
                                patrons=args.patrons + mail_patrons, loans_each=4))  # fmt: skip
        data = dataclasses.replace(full, cards=full.cards[: args.patrons])
        for name in args.only:
            db = name.replace("-", "_")
            pg_admin(pg.admin_url, f'CREATE DATABASE "{db}" TEMPLATE "drill_seed"')
            url = template.set(database=db).render_as_string(hide_password=False)
            if name.startswith("pg-"):
                reports.append(pg_drill(name, pg, url, data, args, workdir))
            else:
                mail = full.cards[args.patrons :]
                reports.append(redis_drill(name, url, data, mail, args, workdir))
    finally:
        if pg is not None:
            pg.stop()
        if os.environ.get("HONDANA_DRILLS_KEEP"):
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"Fault drills, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; "
          f"{args.clients} clients, {args.records:,} titles, {args.patrons} patrons\n")  # fmt: skip
    for r in reports:
        print(r.markdown())
    return 0 if reports and not any(r.problems for r in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
