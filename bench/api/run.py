"""The API benchmark (issue [8/8]): GraphQL next to plain Starlette, a login storm, memory.

    .venv/bin/python bench/api/run.py                 # seed hondana_bench_api (250,000 titles), run
    .venv/bin/python bench/api/run.py --reuse         # the database is already seeded

Two servers run as separate processes on loopback, each as ``hondana serve`` runs the API
(uvicorn, one worker, production mode, JSON access log): the real API
(``server.app:create_app``) and the plain Starlette baseline (``bench/api/plain.py``), both
through ``bench/api/launch.py``. This process is the load generator (``http_load.drive``:
closed loop, keep-alive, one connection per client).

For each of ``search``, ``record``, ``myLoans`` (20 loans) and ``myHolds`` (20 holds) it
checks once that both sides answer the same ``data``, counts SQL statements per request on
each side, then alternates GraphQL and plain runs (``--rounds`` x ``--seconds`` each, same
``--clients``) and prints req/s, p50 and p99 for each side and their ratios. ``--ops hold``
(with ``--baseline raw``) adds the web OPAC's hold cycle, AddToBasket → PlaceHolds →
CancelHold, each client its own patron and titles (bench/api/hold_cycle.py): cycles/s, the
same data checked step by step, SQL counted per step on both sides, and the database
checked afterwards for anything left active. Then the login storm: searches at
``--storm-search-clients`` alone, then the same searches while ``--storm-clients``
clients log storm patrons in back to back (argon2id); once per
``--hash-threads`` value (the API is restarted with ``HONDANA_HASH_THREADS``). The API
process's RSS (children included) is sampled throughout; the peak is reported. The end is a
markdown summary for bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE)]

import hold_cycle as hc  # noqa: E402
import workload as wl  # noqa: E402
from http_load import Sample, drive  # noqa: E402
from launch import RssSampler, Server  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from models import Copy, Record  # noqa: E402
from models.db import create_engine  # noqa: E402
from server.trusted import MANIFEST  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hondana_bench_api"


@dataclass
class OpResult:
    """Both sides of one operation."""

    op: str
    graphql: Sample = field(default_factory=Sample)
    plain: Sample = field(default_factory=Sample)
    rounds: list[tuple[float, float]] = field(default_factory=list)  # req/s per round
    sql: tuple[float, float] | None = None
    # CPU seconds the server process spent during the timed rounds, per side: divided by
    # the requests answered, the cost of one request, which the machine's other load
    # (it shifts both rates) moves much less than the rates.
    cpu: dict[str, float] = field(default_factory=lambda: {"graphql": 0.0, "plain": 0.0})
    difference: str | None = None
    base: str = "plain"  # which baseline: plain.py (the resolvers) or raw.py (the driver)
    unit: str = "request"  # what one sample is: a request, or a hold cycle of three
    steps: tuple[list[int], list[int]] | None = None  # hold: SQL per step, each side
    leftover: str | None = None  # hold: what the cycles left active (should be nothing)


@dataclass
class StormResult:
    """Searches alone and during a login storm, at one ``hash_threads``."""

    threads: int
    idle: Sample
    storm: Sample
    logins: Sample


def record_ids(url: str, count: int = 200) -> list[str]:
    """Global ids of ``count`` titles with copies, spread over the catalogue."""
    sys.path.insert(0, str(HERE))
    from plain import gid

    async def fetch() -> list[int]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                top = (await conn.execute(text("SELECT max(id) FROM records"))).scalar_one()
                step = max(1, int(top or 0) // count)
                rows = await conn.execute(
                    select(Record.id)
                    .where(
                        Record.id % step == 7 % step,
                        select(Copy.id).where(Copy.record_id == Record.id).exists(),
                    )
                    .order_by(Record.id)
                    .limit(count)
                )
                return [int(r) for r in rows.scalars()]
        finally:
            await engine.dispose()

    ids = asyncio.run(fetch())
    if not ids:
        raise SystemExit(f"no titles in {url}: seed it first (run without --reuse)")
    return [gid("Record", pk) for pk in ids]


def database_exists(url: str) -> bool:
    """Whether the database at ``url`` is there to reuse (SQLite: its file)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database or "").is_file()
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)

    async def check() -> bool:
        engine = create_engine(admin)
        try:
            async with engine.connect() as conn:
                found = await conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
                )
                return found.first() is not None
        finally:
            await engine.dispose()

    return asyncio.run(check())


def absolute(url: str) -> str:
    """``url`` with a relative SQLite path made absolute (from the current directory):
    the servers run in the repository's root, and every process must open the same file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    path = Path(parsed.database or "").resolve()
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


async def compare_ops(
    args: argparse.Namespace, api: Server, plain: Server, work: wl.Workload
) -> list[OpResult]:
    results: list[OpResult] = []
    from seed import HOLDS_CARD, LOANS_CARD

    counting = None  # raw.py counts its statements only in a server of its own
    if args.baseline == "raw" and not args.no_sql_count and set(args.ops) - {"hold"}:
        counting = Server("raw", args.database_url, {"BENCH_RAW_COUNT": "1"})
        await asyncio.to_thread(counting.start)
    try:
        for op in args.ops:
            if op == "hold":
                results.append(await compare_hold(args, api, plain, work))
                continue
            if op in ("myLoans", "myHolds"):  # log in just before, well inside AUTH-10's 15 min
                card = LOANS_CARD if op == "myLoans" else HOLDS_CARD
                work.tokens[op] = await wl.login(api.port, work.ids, card)
            res = OpResult(op, base=args.baseline)
            sides = {"graphql": (api.port, work.request(op, "graphql")),
                     "plain": (plain.port, work.request(op, "plain"))}  # fmt: skip
            for n in range(min(work.variants(op), 25)):  # same data, request by request
                a, b = [await wl.one(port, req, n) for port, req in sides.values()]
                res.difference = res.difference or wl.first_difference(a, b)
            if not args.no_sql_count:
                res.sql = await count_sql(work, op, api.port, counting or plain)
            runs = {
                side: functools.partial(drive, port, req, wl.check_data, clients=args.clients)
                for side, (port, req) in sides.items()
            }
            await timed_rounds(args, res, {"graphql": api, "plain": plain}, runs)
            print(op_line(res), flush=True)
            results.append(res)
    finally:
        if counting is not None:
            await asyncio.to_thread(counting.stop)
    return results


async def count_sql(work: wl.Workload, op: str, api: int, base: Server) -> tuple[float, float]:
    """SQL statements per request of ``op`` on each side, its requests sent one at a time:
    the API's and plain.py's through SQLAlchemy's counter, raw.py's in its counting server
    (``BENCH_RAW_COUNT``), which first answers them once unmeasured (asyncpg reads type
    details on first use)."""
    count = min(work.variants(op), 25)
    base_request = work.request(op, "plain")
    if base.side == "raw":
        for n in range(count):
            await wl.one(base.port, base_request, n)
    return (
        await wl.statements_per_request(api, work.request(op, "graphql"), count),
        await wl.statements_per_request(base.port, base_request, count),
    )


async def timed_rounds(
    args: argparse.Namespace,
    res: OpResult,
    servers: dict[str, Server],
    runs: Mapping[str, Callable[..., Awaitable[Sample]]],
) -> None:
    """A warm-up per side, then ``--rounds`` of each side in turn (``runs[side](seconds=)``
    drives it), pooled into ``res`` with the server CPU each side spent."""
    for run in runs.values():  # warm-up, not counted
        await run(seconds=args.warmup)
    procs = {side: server.process() for side, server in servers.items()}
    for _ in range(args.rounds):
        rates = []
        for side, run in runs.items():
            before = cpu_seconds(procs[side])
            s = await run(seconds=args.seconds)
            res.cpu[side] += cpu_seconds(procs[side]) - before
            getattr(res, side).add(s)
            rates.append(s.rate)
            if s.failures:
                print(f"  {res.op} {side}: {s.failures} failures, first: {s.first_failure}")
        res.rounds.append((rates[0], rates[1]))


async def compare_hold(
    args: argparse.Namespace, api: Server, raw: Server, work: wl.Workload
) -> OpResult:
    """The hold cycle (hold_cycle.py) on both sides: ``--clients`` patrons log in, each
    with titles of its own; one cycle per side and patron is checked for the same data,
    one is counted step by step, then the timed rounds; last, the database is checked
    for anything the cycles left active."""
    if args.baseline != "raw":
        raise SystemExit("--ops hold needs --baseline raw (plain.py has no mutations)")
    url = args.database_url
    people = await hc.holders(url, api.port, work.ids, hc.cards(args.clients))
    before = await hc.in_play(url, [p.card for p in people])
    res = OpResult("hold", base=args.baseline, unit="cycle")
    sides = {"graphql": (api.port, hc.Side("graphql", work.ids)),
             "plain": (raw.port, hc.Side("raw", work.ids))}  # fmt: skip
    res.difference = await hc.same_data(sides["graphql"], sides["plain"], people)
    if not args.no_sql_count:
        res.steps = await hc.count_steps(url, sides["graphql"], people[0])
    runs = {side: functools.partial(hc.drive, port, s, people) for side, (port, s) in sides.items()}
    await timed_rounds(args, res, {"graphql": api, "plain": raw}, runs)
    res.leftover = await hc.left_behind(url, people, before)
    print(op_line(res), flush=True)
    return res


async def storm_run(
    args: argparse.Namespace, api: Server, work: wl.Workload, threads: int
) -> StormResult:
    search = work.request("search", "graphql")
    c = args.storm_search_clients
    await drive(api.port, search, wl.check_data, clients=c, seconds=args.warmup)
    idle, storm, logins = Sample(), Sample(), Sample()
    for _ in range(args.storm_rounds):  # alternated, so a drifting background hits both
        idle.add(
            await drive(api.port, search, wl.check_data, clients=c, seconds=args.storm_seconds)
        )
        searched, logged_in = await asyncio.gather(
            drive(api.port, search, wl.check_data, clients=c, seconds=args.storm_seconds),
            drive(api.port, work.login_request(), wl.check_login, clients=args.storm_clients,
                  seconds=args.storm_seconds),
        )  # fmt: skip
        storm.add(searched)
        logins.add(logged_in)
    for name, s in (("idle", idle), ("storm", storm), ("logins", logins)):
        if s.failures:
            print(f"  storm/{name}: {s.failures} failures, first: {s.first_failure}")
    result = StormResult(threads, idle, storm, logins)
    print(storm_line(result), flush=True)
    return result


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU seconds of ``proc`` so far."""
    t = proc.cpu_times()
    return float(t.user + t.system)


def cpu_ms(r: OpResult, side: str) -> float:
    """Server CPU milliseconds per answered request on ``side``."""
    sample = r.graphql if side == "graphql" else r.plain
    return 1000 * r.cpu[side] / max(1, len(sample.latencies))


def ms(value: float) -> str:
    return f"{value:.1f}"


def op_line(r: OpResult) -> str:
    g, p = r.graphql, r.plain
    rounds = ", ".join(f"{a:.0f}/{b:.0f}" for a, b in r.rounds)
    per = "req/s" if r.unit == "request" else f"{r.unit}s/s"
    return (
        f"{r.op}: GraphQL {g.rate:.0f} {per} p50 {ms(g.pct(50))} p99 {ms(g.pct(99))} ms | "
        f"{r.base} {p.rate:.0f} {per} p50 {ms(p.pct(50))} p99 {ms(p.pct(99))} ms | "
        f"throughput x{g.rate / p.rate:.2f} (rounds {rounds}) | server CPU per {r.unit} "
        f"{cpu_ms(r, 'graphql'):.2f} vs {cpu_ms(r, 'plain'):.2f} ms"
        + (f" | SQL/request {r.sql[0]:.1f} vs {r.sql[1]:.1f}" if r.sql else "")
        + (f" | SQL per step (add/place/cancel) {sql_steps(r)}" if r.steps else "")
        + (f" | DATA DIFFERS at {r.difference}" if r.difference else "")
        + (f" | left active: {r.leftover or 'nothing'}" if r.unit == "cycle" else "")
    )


def sql_steps(r: OpResult) -> str:
    """The hold cycle's statements per step, ``GraphQL / baseline``."""
    assert r.steps is not None
    return " / ".join("+".join(str(n) for n in side) for side in r.steps)


def storm_line(s: StormResult) -> str:
    ratio = s.storm.pct(99) / s.idle.pct(99)
    return (
        f"storm (hash_threads={s.threads}): search p99 idle {ms(s.idle.pct(99))} ms, "
        f"during storm {ms(s.storm.pct(99))} ms (x{ratio:.2f}); search {s.idle.rate:.0f} -> "
        f"{s.storm.rate:.0f} req/s; logins {s.logins.rate:.1f}/s p50 {ms(s.logins.pct(50))} ms"
    )


def summary(args: argparse.Namespace, ops: list[OpResult], storms: list[StormResult],
            peaks: dict[str, int], load: tuple[str, str]) -> str:  # fmt: skip
    lines = [
        f"Machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}; load average before {load[0]}, after {load[1]}.",
        f"{args.clients} clients, {args.rounds} rounds x {args.seconds:g} s per side, "
        f"alternating; p50/p99 over every request of the rounds.",
        "",
        f"| operation | GraphQL req/s | {args.baseline} req/s | ratio | GraphQL p50 / p99 ms | "
        f"{args.baseline} p50 / p99 ms | p50 ratio | p99 ratio | server CPU ms per request "
        f"(GraphQL / {args.baseline}) | CPU ratio ({args.baseline} / GraphQL) | SQL per request "
        f"(GraphQL / {args.baseline}) | same data |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ops:
        g, p = r.graphql, r.plain
        sql = f"{r.sql[0]:.1f} / {r.sql[1]:.1f}" if r.sql else "not counted"
        sql = f"{sql_steps(r)} per step" if r.steps else sql
        lines.append(
            f"| {r.op} | {g.rate:,.0f} | {p.rate:,.0f} | **{g.rate / p.rate:.2f}** | "
            f"{ms(g.pct(50))} / {ms(g.pct(99))} | {ms(p.pct(50))} / {ms(p.pct(99))} | "
            f"{g.pct(50) / p.pct(50):.2f} | {g.pct(99) / p.pct(99):.2f} | "
            f"{cpu_ms(r, 'graphql'):.2f} / {cpu_ms(r, 'plain'):.2f} | "
            f"**{cpu_ms(r, 'plain') / max(cpu_ms(r, 'graphql'), 1e-9):.2f}** | {sql} | "
            f"{'DIFFERS at ' + r.difference if r.difference else 'yes'}"
            f"{'; LEFT ACTIVE: ' + r.leftover if r.leftover else ''} |"
        )
    if any(r.unit != "request" for r in ops):
        lines += ["", "hold: one cycle (AddToBasket, PlaceHolds, CancelHold: three requests) "
                  "counts as one request; each client its own patron and titles."]  # fmt: skip
    lines += [
        "",
        f"Login storm: {args.storm_search_clients} search clients, {args.storm_clients} login "
        f"clients, {args.storm_rounds} rounds x {args.storm_seconds:g} s idle, then storm.",
        "",
        "| hash_threads | search p99 idle | search p99 storm | ratio | search req/s idle / storm "
        "| logins/s | login p50 / p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in storms:
        lines.append(
            f"| {s.threads} | {ms(s.idle.pct(99))} ms | {ms(s.storm.pct(99))} ms | "
            f"**{s.storm.pct(99) / s.idle.pct(99):.2f}** | {s.idle.rate:.0f} / {s.storm.rate:.0f} "
            f"| {s.logins.rate:.1f} | {ms(s.logins.pct(50))} / {ms(s.logins.pct(99))} |"
        )
    lines += ["", "Peak RSS: " + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in peaks.items())]
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--database-url", default=DEFAULT_URL,
                    help="PostgreSQL (asyncpg) or SQLite (sqlite+aiosqlite:///var/bench/api.db)")  # fmt: skip
    ap.add_argument("--reuse", action="store_true", help="measure the seeded database as it is")
    ap.add_argument("--baseline", choices=("plain", "raw"), default="plain",
                    help="plain: plain.py (the resolvers, no GraphQL); raw: raw.py (asyncpg or "
                    "aiosqlite by hand, no ORM, orjson)")  # fmt: skip
    ap.add_argument("--seed-workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed-titles", type=int, default=None,
                    help="seed only about this many titles (a quick check, not a measurement)")  # fmt: skip
    ap.add_argument("--seconds", type=float, default=10.0, help="per side per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument(
        "--ops",
        nargs="*",
        choices=wl.CHOICES,
        default=None,
        help="none: storm only; default: the four reads, and hold (add, place, cancel: "
        "about as long a run as a read's) with --baseline raw, the only one that has it",
    )
    ap.add_argument("--no-sql-count", action="store_true")
    ap.add_argument("--storm-seconds", type=float, default=10.0, help="per phase per round")
    ap.add_argument("--storm-rounds", type=int, default=3)
    ap.add_argument("--storm-search-clients", type=int, default=4)
    ap.add_argument("--storm-clients", type=int, default=8)
    ap.add_argument("--hash-threads", type=int, nargs="*", default=None,
                    help="storm once per value (default: the settings' value only; none: no storm)")  # fmt: skip
    ap.add_argument("--api-env", action="append", default=[], metavar="HONDANA_X=VALUE",
                    help="extra settings for the API process (both sides share the rest)")  # fmt: skip
    args = ap.parse_args(argv)
    args.database_url = absolute(args.database_url)
    if args.ops is None:
        args.ops = [*wl.OPS, *(["hold"] if args.baseline == "raw" else [])]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    url = args.database_url
    if not args.reuse or not database_exists(url):
        from seed import seed

        size = f"about {args.seed_titles:,}" if args.seed_titles else "250,000"
        print(f"seeding {make_url(url).database} ({size} titles) ...", flush=True)
        seed(url, args.seed_workers, args.seed_titles)
    env = dict(item.split("=", 1) for item in args.api_env)
    load_before = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    ids = wl.trusted_ids(json.loads(MANIFEST.read_text(encoding="utf-8")))
    work = wl.Workload(ids=ids, record_ids=record_ids(url))
    api, plain = Server("api", url, env), Server(args.baseline, url, {})
    peaks: dict[str, int] = {}
    sampler = RssSampler([api, plain])
    sampler.start()
    storms: list[StormResult] = []
    try:
        api.start()
        plain.start()
        ops = asyncio.run(compare_ops(args, api, plain, work))
        peaks["API under the load run"] = api.peak_rss
        peaks[args.baseline] = plain.peak_rss
        plain.stop()
        current = int(api.env.get("HONDANA_HASH_THREADS") or settings_threads())
        for threads in [current] if args.hash_threads is None else args.hash_threads:
            if threads != current:  # a fresh API process with that many argon2 threads
                api.stop()
                api = Server("api", url, env | {"HONDANA_HASH_THREADS": str(threads)})
                sampler.servers.append(api)
                api.start()
                current = threads
            storms.append(asyncio.run(storm_run(args, api, work, threads)))
            peaks[f"API in the storm (hash_threads={threads})"] = api.peak_rss
    finally:
        sampler.done.set()
        for server in sampler.servers:
            server.stop()
    load_after = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print()
    print(summary(args, ops, storms, peaks, (load_before, load_after)))
    return 0


def settings_threads() -> int:
    from server.settings import Settings

    return Settings(_env_file=None).hash_threads


if __name__ == "__main__":
    raise SystemExit(main())
