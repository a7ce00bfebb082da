"""Server CPU per request of each kind of the mixed load, one kind at a time (issue [R2 9/9]).

    .venv/bin/python bench/op_cpu.py                          # every kind, 8 s each, twice
    .venv/bin/python bench/op_cpu.py renewLoans hold --seconds 10 --profile var/bench/op

``bench/load.py`` says how many requests a second the API answers under the whole mix; this
says where its CPU goes. It seeds the same scratch database (``load.py``'s seed: 3,000
MARC titles, 50 patrons with 6 loans each), starts ``hondana serve`` the same way, logs the
patrons in, and then runs one kind of ``load.py``'s clients at a time (16 of them): the
CPU the server process used (``/proc/<pid>/stat``, user + system) over the requests it
answered. ``hold`` is the two-step hold (``addToBasket`` once to three times, then
``placeHolds``, then ``removeFromBasket`` for what was refused), counted per request; a
``cancelHold`` client with nothing to cancel asks ``myHolds`` instead, as in the mix.
With ``--profile DIR`` the first run of each kind is recorded by py-spy (``pip install
py-spy``) into ``DIR/<kind>.raw``, a flame graph's collapsed stacks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "bench" / "api"), str(ROOT)]

import load  # noqa: E402
from http_load import Wire  # noqa: E402

from models.migrate import upgrade  # noqa: E402

CLIENTS = 16
# py-spy beside this Python (installed into the virtualenv), else on the PATH.
PY_SPY = next((str(p) for p in [Path(sys.executable).parent / "py-spy"] if p.exists()), "py-spy")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(runner: load.Load, pid: int, kinds: list[str], args: argparse.Namespace) -> None:
    runner.http = Wire(pid_port(runner), size=120, timeout=10)
    await runner.login_all(runner.seed.cards)
    for kind in kinds:
        load.Load.WEIGHTS = {kind: 1}  # this script's clients: one kind at a time
        for rep in range(args.repeats):
            spy = None
            if args.profile and rep == 0:
                out = Path(args.profile) / f"{kind}.raw"
                out.parent.mkdir(parents=True, exist_ok=True)
                command = [PY_SPY, "record", "-p", str(pid), "-d", str(int(args.seconds))]
                command += ["-r", "200", "-f", "raw", "-o", str(out)]
                spy = await asyncio.create_subprocess_exec(*command, stdout=subprocess.DEVNULL)
            runner.stats, runner.budget = load.Stats(), 10**9
            cpu, started = cpu_seconds(pid), time.monotonic()
            runner.deadline = started + args.seconds
            patrons = runner.patrons
            await asyncio.gather(
                *(runner.client(i + 1000 * rep, patrons[i % len(patrons)]) for i in range(CLIENTS))
            )
            used, elapsed, stats = cpu_seconds(pid) - cpu, time.monotonic() - started, runner.stats
            if spy is not None:
                await spy.wait()
            counts = ", ".join(f"{op} {n}" for op, n in sorted(stats.by_op.items()))
            print(
                f"{kind:11s} {stats.requests / elapsed:6.0f} req/s  "
                f"server CPU {1000 * used / max(stats.requests, 1):5.2f} ms a request  "
                f"({counts}; failed {stats.failed})",
                flush=True,
            )


def pid_port(runner: load.Load) -> int:
    return int(runner.base_url.rsplit(":", 1)[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*", default=list(load.Load.WEIGHTS))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--profile", help="a folder for py-spy's collapsed stacks")
    parser.add_argument("--pg-admin-url", default=load.PG_ADMIN)
    args = parser.parse_args()
    unknown = set(args.kinds) - set(load.Load.WEIGHTS)
    if unknown:
        parser.error(f"unknown kinds {sorted(unknown)}; known: {list(load.Load.WEIGHTS)}")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(load.scratch_postgres(args.pg_admin_url, "hondana_op_cpu"))
        upgrade(url)
        seed = asyncio.run(load.seed(url, records=3000, patrons=50, loans_each=6))
        log = Path(tempfile.gettempdir()) / f"hondana-op-cpu-{os.getpid()}.log"
        server = load.ApiServer(url, load.free_port(), log)
        server.start()
        stack.callback(server.stop)
        assert server.proc is not None
        asyncio.run(measure(load.Load(server.url, seed), server.proc.pid, args.kinds, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
