"""Profile the API under the load of one benchmark operation with py-spy (issue [R2 9/9]).

    .venv/bin/pip install py-spy     # or: uv pip install py-spy (not a project dependency)
    .venv/bin/python bench/api/profile_api.py --op search --seconds 30
    .venv/bin/python bench/api/profile_api.py --op myLoans --seconds 20 --tag before

Starts the real API as ``run.py`` does (``launch.py api``, the seeded ``hondana_bench_api``),
drives it with the benchmark's requests for ``--op`` (16 clients, closed loop; the search
mix, 200 titles for ``record``, the seeded patrons logged in for ``myLoans``/``myHolds``) and
samples the API process with ``py-spy record`` meanwhile. Writes
``bench/profiles/<op>[-<tag>].svg`` (flame graph) and ``.txt``: where the samples' innermost
frame is (by library), and how many samples pass through the steps the issue names
(inclusive shares).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE)]

import run  # noqa: E402
import workload as wl  # noqa: E402
from http_load import drive  # noqa: E402
from launch import Server  # noqa: E402

from server.trusted import MANIFEST  # noqa: E402

OUT = ROOT / "bench" / "profiles"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hondana_bench_api"
# The innermost frame's file, by the first of these path parts it contains.
LIBRARIES = [
    ("sqlalchemy", "(sqlalchemy/"),
    ("graphql-core", "(graphql/"),
    ("strawberry", "(strawberry/"),
    ("asyncpg (driver)", "(asyncpg/"),
    ("uvicorn/starlette/h11", "(uvicorn/"),
    ("uvicorn/starlette/h11", "(starlette/"),
    ("uvicorn/starlette/h11", "(h11/"),
    ("aiodataloader", "(aiodataloader"),
    ("event loop (asyncio)", "(asyncio/"),
    ("json", "(json/"),
    ("logging", "(logging/"),
]
OWN = ("(resolvers/", "(schema/", "(server/", "(models/", "(policies/")
# Inclusive: samples with any frame whose text contains one of these.
STEPS = {
    "pool pre-ping (_async_ping: BEGIN + ROLLBACK on every checkout)": ("_async_ping",),
    "SQL compilation and cache keys (_compile_w_cache / _generate_cache_key)": (
        "_compile_w_cache", "_generate_cache_key",
    ),
    "ORM statement execution (orm_execute_statement)": ("orm_execute_statement",),
    "ORM rows to objects (loading.instances / _instance)": ("instances (", "_instance ("),
    "greenlet bridge (greenlet_spawn)": ("greenlet_spawn",),
    "posting bitmaps read (PostingReader.load)": ("PostingReader.load",),
    "facet counts (_facet_counts: a second and third session)": ("_facet_counts",),
    "a session opened (async_sessionmaker.__call__ / AsyncSession.__init__)": (
        "__init__ (sqlalchemy/ext/asyncio/session.py",
    ),
    "a session closed (AsyncSession.close / __aexit__)": (
        "close (sqlalchemy/ext/asyncio/session.py", "__aexit__ (sqlalchemy/ext/asyncio/session",
    ),
    "pool checkout (_ConnectionFairy._checkout)": ("_checkout (sqlalchemy/pool",),
    "pool checkin / reset (_finalize_fairy / _reset)": ("_finalize_fairy", "_reset (sqlalchemy/pool"),
    "the viewer from the token (viewer_for_token)": ("viewer_for_token",),
    "permission classes (has_permission)": ("has_permission",),
    "data loaders (aiodataloader)": ("(aiodataloader",),
    "renewal check per loan (renewal_check)": ("renewal_check",),
    "graphql-core field execution (execute_field)": ("execute_field (",),
    "Strawberry resolver wrappers (from_resolver / field extensions)": ("from_resolver",),
    "Strawberry argument conversion (get_arguments)": ("get_arguments",),
    "response JSON encoding (json encoder)": ("encode (json/encoder", "iterencode"),
    "access log (logging)": ("(logging/",),
}  # fmt: skip


def library(frame: str) -> str:
    for name, part in LIBRARIES:
        if part in frame:
            return name
    if any(part in frame for part in OWN):
        return "Hondana's own code"
    return "other (Python runtime, C, pyroaring, ...)"


def summarise(collapsed: Path, op: str) -> str:
    leaf: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    total = 0
    pending = ""
    for line in collapsed.read_text().splitlines():
        # A frame's name can span lines (SQLAlchemy's generated code): a stack ends with
        # its sample count.
        pending += line
        stack, _, count = pending.rpartition(" ")
        if not count.isdigit():
            continue
        pending = ""
        n = int(count)
        total += n
        frames = stack.split(";")
        leaf[library(frames[-1])] += n
        for name, needles in STEPS.items():
            if any(needle in stack for needle in needles):
                steps[name] += n
    lines = [f"{total} samples of the API process under GraphQL {op} load", "",
             "Innermost frame by library (exclusive):"]  # fmt: skip
    lines += [f"  {n / total:6.1%}  {name}" for name, n in leaf.most_common()]
    lines += ["", "Samples passing through (inclusive, overlapping):"]
    lines += [f"  {steps[name] / total:6.1%}  {name}" for name in STEPS]
    return "\n".join(lines) + "\n"


async def load_holds(url: str, port: int, work: wl.Workload, seconds: float, clients: int) -> None:
    """The two-step hold cycle (hold_cycle.py): each client its own patron and titles."""
    import hold_cycle as hc

    people = await hc.holders(url, port, work.ids, hc.cards(clients))
    side = hc.Side("graphql", work.ids)
    await hc.drive(port, side, people, 2)  # warm-up
    s = await hc.drive(port, side, people, seconds)
    print(f"hold: {s.rate:.0f} cycles/s, p50 {s.pct(50):.0f} ms, {s.failures} failures")


async def load(port: int, work: wl.Workload, op: str, seconds: float, clients: int) -> None:
    from seed import HOLDS_CARD, LOANS_CARD

    if op in ("myLoans", "myHolds"):
        card = LOANS_CARD if op == "myLoans" else HOLDS_CARD
        work.tokens[op] = await wl.login(port, work.ids, card)
    request = work.request(op, "graphql")
    await drive(port, request, wl.check_data, clients=clients, seconds=2)  # warm-up
    s = await drive(port, request, wl.check_data, clients=clients, seconds=seconds)
    print(f"{op}: {s.rate:.0f} req/s, p50 {s.pct(50):.0f} ms, {s.failures} failures")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--op", choices=(*wl.OPS, "hold"), default="search")
    ap.add_argument("--tag", default="", help="appended to the output names")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--keep-stacks", type=Path, help="move the collapsed stacks to this folder")
    ap.add_argument("--py-spy", default=str(Path(sys.executable).parent / "py-spy"))
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    name = args.op + (f"-{args.tag}" if args.tag else "")
    ids = wl.trusted_ids(json.loads(MANIFEST.read_text(encoding="utf-8")))
    record_ids = run.record_ids(args.database_url) if args.op == "record" else []
    work = wl.Workload(ids=ids, record_ids=record_ids)
    api = Server("api", args.database_url, {})
    api.start()
    try:
        assert api.proc is not None
        common = [args.py_spy, "record", "--pid", str(api.proc.pid), "--rate", "200",
                  "--duration", str(int(args.seconds) + 2), "--nonblocking"]  # fmt: skip
        # Two samplers at once: py-spy writes one format per run. The collapsed stacks
        # are summarised and then deleted (megabytes); the flame graph is kept.
        raw = OUT / f"{name}.collapsed"
        spies = [
            subprocess.Popen([*common, "--format", "raw", "-o", str(raw)]),
            subprocess.Popen([*common, "--format", "flamegraph", "-o", str(OUT / f"{name}.svg")]),
        ]
        if args.op == "hold":
            asyncio.run(load_holds(args.database_url, api.port, work, args.seconds, args.clients))
        else:
            asyncio.run(load(api.port, work, args.op, args.seconds, args.clients))
        for spy in spies:
            spy.wait()
    finally:
        api.stop()
    (OUT / f"{name}.txt").write_text(summarise(raw, args.op))
    if args.keep_stacks:  # for reading by function, outside the repository
        args.keep_stacks.mkdir(parents=True, exist_ok=True)
        raw.replace(args.keep_stacks / raw.name)
    else:
        raw.unlink()
    svg = OUT / f"{name}.svg"  # py-spy writes its command line in: no machine paths
    svg.write_text(svg.read_text().replace(f"{ROOT}/", ""))
    print((OUT / f"{name}.txt").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
