"""Latency at a fixed offered load: an open-loop run of the web OPAC's reads (issue [R2 9/9]).

    .venv/bin/python bench/api/open_loop.py --rate 13 --rate 130 --seconds 30

A closed loop (``run.py``, ``bench/load.py``) measures how fast the API can go; it cannot
say what a patron waits at a given traffic, because a slow answer also slows the clients
down. Here requests leave at fixed times, ``--rate`` a second, whatever the answers, and
each one's latency counts from the moment it was due to leave (so a request that waited
for a free connection is charged for the wait: no coordinated omission). The mix is
docs/deploy.md's peak mix restricted to the four benchmark reads: search 43 %, record
43 %, myLoans 7 %, myHolds 7 % (its 30/30/5/5). Against the seeded ``hondana_bench_api``
(``run.py`` seeds it), one API process as ``hondana serve`` runs it (``launch.py``).

The rates: docs/deploy.md puts the design peak at 330 req/s for 10,000,000 inhabitants.
A city of 400,000 (assumed; the order of the city whose guide the rules come from) sends
13 req/s at its peak minutes by the same assumptions; ``--rate 130`` is ten times that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]

import run  # noqa: E402
import workload as wl  # noqa: E402
from http_load import Sample, encode, read_response  # noqa: E402
from launch import Server  # noqa: E402
from seed import HOLDS_CARD, LOANS_CARD  # noqa: E402

from server.trusted import MANIFEST  # noqa: E402

MIX = (("search", 43), ("record", 43), ("myLoans", 7), ("myHolds", 7))
CONNECTIONS = 64  # keep-alive connections the requests take turns on


def schedule(rate: float, seconds: float) -> list[tuple[float, str]]:
    """(due time, operation): evenly spaced, the mix interleaved deterministically."""
    total = int(rate * seconds)
    ops = [op for op, weight in MIX for _ in range(weight)]
    return [(i / rate, ops[(i * 37) % len(ops)]) for i in range(total)]


async def offer(port: int, work: wl.Workload, rate: float, seconds: float) -> dict[str, Sample]:
    """Send the schedule; each operation's latencies from due time to answer."""
    samples = {op: Sample(seconds=seconds) for op, _ in MIX}
    requests = {op: work.request(op, "graphql") for op, _ in MIX}
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    start = time.perf_counter()

    async def one(n: int, due: float, op: str) -> None:
        reader, writer = await pool.get()
        path, body, headers = requests[op](n)
        writer.write(encode(port, path, body, headers))
        status, payload = await read_response(reader)
        pool.put_nowait((reader, writer))
        took = time.perf_counter() - (start + due)
        problem = f"HTTP {status}" if status != 200 else wl.check_data(payload)
        sample = samples[op]
        if problem:
            sample.failures += 1
            sample.first_failure = sample.first_failure or problem
        else:
            sample.latencies.append(took)

    tasks = []
    for n, (due, op) in enumerate(schedule(rate, seconds)):
        await asyncio.sleep(max(0.0, start + due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(n, due, op)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait()[1].close()
    return samples


async def measure(port: int, work: wl.Workload, rates: list[float], seconds: float) -> None:
    work.tokens["myLoans"] = await wl.login(port, work.ids, LOANS_CARD)
    work.tokens["myHolds"] = await wl.login(port, work.ids, HOLDS_CARD)
    await offer(port, work, 10, 3)  # warm-up: caches, pool, plans
    print(
        "| offered req/s | answered | failed | p50 ms | p95 ms | p99 ms | p99 per operation (search / record / myLoans / myHolds) |"
    )
    print("|---|---|---|---|---|---|---|")
    for rate in rates:
        samples = await offer(port, work, rate, seconds)
        every = Sample(seconds=seconds)
        for sample in samples.values():
            every.add(sample)
        every.seconds = seconds
        per_op = " / ".join(f"{samples[op].pct(99):.0f}" for op, _ in MIX)
        print(
            f"| {rate:g} | {len(every.latencies)} | {every.failures} | {every.pct(50):.0f} "
            f"| {every.pct(95):.0f} | {every.pct(99):.0f} | {per_op} |",
            flush=True,
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--database-url", default=run.DEFAULT_URL)
    ap.add_argument("--rate", type=float, action="append", help="offered req/s (repeatable)")
    ap.add_argument("--seconds", type=float, default=30.0, help="per rate")
    args = ap.parse_args()
    rates = args.rate or [13.0, 130.0]
    ids = wl.trusted_ids(json.loads(MANIFEST.read_text(encoding="utf-8")))
    work = wl.Workload(ids=ids, record_ids=run.record_ids(args.database_url))
    api = Server("api", args.database_url, {})
    api.start()
    try:
        print(f"load average {os.getloadavg()[0]:.2f}; {args.seconds:g} s per rate", flush=True)
        asyncio.run(measure(api.port, work, rates, args.seconds))
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
