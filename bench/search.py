"""Search benchmark (issues [5/8], [R2 6/9]): the bigram index next to what a DBA would set
up, on the same database in the same run.

Loads LC's "Books All 2016, part 1" (250,000 records, fetched from the pymarc 5.4.0 source
distribution on first use, checked by sha256) ``--rounds`` times with distinct control
numbers, then the project's own sample (shared/data, 19,554 records) so that the Japanese
query set (tests/catalogue/japanese_queries.json) finds the records it was drawn from,
timing the import; builds the baseline (PostgreSQL: full-text search with a GIN index on a
``tsvector`` for Latin words and a ``pg_trgm`` GIN index for everything else; SQLite: an
FTS5 table with the trigram tokenizer) over the same text the index sees (titles, readings
in romanisation and kana, authors, publishers, series, subjects); then runs the first
round's query mix and the Japanese query set through the real search
(``resolvers.catalogue.search.run_search``: index, count, first page of titles) and through the
baseline (count and first page of 20, newest first), and prints p50/p95 of both and each
one's recall on the Japanese set, and the CPU time of this process per search (on SQLite
that is the whole search, so it does not grow with the machine's load).
``--baseline-reps 0`` skips the baseline; ``--baseline-every N`` times it on every N-th
query of the Japanese set only (at 1,000,000 titles a short query scans the table). See
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import search_baseline as baseline  # noqa: E402  (bench/ is on sys.path when run as a script)

from models import Library, Record  # noqa: E402
from models.db import create_engine, create_session_factory  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from policies.enums import LibraryKind  # noqa: E402
from resolvers.catalogue.search import SearchRequest, run_search  # noqa: E402
from server.catalogue_import import (  # noqa: E402
    PreparedBatch,
    import_records,
    prepared_file_batches,
)

SAMPLE = ROOT.parent / "shared" / "data" / "lc-books-2016-sample.mrc"
JAPANESE = json.loads((ROOT / "tests" / "catalogue" / "japanese_queries.json").read_text("utf-8"))

CACHE = ROOT / "var" / "bench"
SDIST_SHA = "b2016b1674d1956636c99b9bf95b31840c5cb8f22645672a660e66326371b2f3"
FILE_SHA = "dfdcdad30e0e0a82b0aec831c1a08b61c6199eb8ee0d71ff7953213f20eb0e47"
MEMBER = "pymarc-5.4.0/BooksAll.2016.part01.utf8"
# 1-4 characters of Japanese, romanised and English words, two-word queries; ISBNs are
# taken from the file itself (below).
QUERIES = [
    "本",
    "心",
    "愛",
    "海",
    "日本",
    "歴史",
    "文学",
    "教育",
    "経済",
    "図書館",
    "日本史",
    "仏教美術",
    "日本文化",
    "近代日本",
    "tokyo",
    "nihon",
    "kenkyu",
    "history",
    "religion",
    "shakai",
    "japan history",
    "nihon bungaku",
]


def lc_file() -> Path:
    """The 250,000-record file, downloaded and extracted once into var/bench."""
    target = CACHE / "BooksAll.2016.part01.utf8"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "pymarc==5.4.0",
            "-d",
            str(CACHE),
        ],
        check=True,
    )
    sdist = CACHE / "pymarc-5.4.0.tar.gz"
    if _sha256(sdist) != SDIST_SHA:
        raise SystemExit(f"{sdist}: unexpected sha256")
    with tarfile.open(sdist) as tar:
        member = tar.extractfile(MEMBER)
        assert member is not None
        with open(target.with_suffix(".part"), "wb") as out:
            while chunk := member.read(1 << 20):
                out.write(chunk)
    if _sha256(target.with_suffix(".part")) != FILE_SHA:
        raise SystemExit("extracted file: unexpected sha256")
    target.with_suffix(".part").rename(target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fresh_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").unlink(missing_ok=True)
        return
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    name = parsed.database

    async def run() -> None:
        engine = create_engine(admin)
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(run())


def _renumbered(batches: Iterator[PreparedBatch], round_no: int) -> Iterator[PreparedBatch]:
    """Each round's records under their own control numbers, so they are new titles."""
    for batch in batches:
        if round_no:
            batch.records = [
                replace(r, control_number=f"{r.control_number}-{round_no}") for r in batch.records
            ]
        yield batch


async def load(url: str, path: Path, rounds: int, workers: int) -> list[dict[str, float]]:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with sessions() as db, db.begin():
        db.add_all(
            Library(
                code=f"b{n}",
                name=f"分館{n}",
                name_en=f"Branch {n}",
                kind=LibraryKind.BRANCH,
                position=n,
            )
            for n in range(3)
        )
    async with sessions() as db:
        branches = list((await db.execute(select(Library.id))).scalars())
    counter = iter(range(10**9))

    def plan(_: object) -> list[dict[str, object]]:
        return [{"library_id": branches[next(counter) % len(branches)]}]

    timings = []
    for round_no in range(rounds):
        started = time.perf_counter()
        report = await import_records(
            sessions,
            _renumbered(prepared_file_batches(path, workers=workers), round_no),
            now=datetime.now(UTC),
            copies=plan,
        )
        seconds = time.perf_counter() - started
        timings.append(
            {
                "records": report.inserted,
                "seconds": seconds,
                "per_second": report.inserted / seconds,
            }
        )
        print(
            f"  round {round_no + 1}: {report.inserted:,} records in {seconds:.1f} s "
            f"= {report.inserted / seconds:,.0f}/s ({len(report.skipped)} skipped)",
            flush=True,
        )
    # The project's sample last, so the Japanese query set finds what it was drawn from.
    sample = await import_records(
        sessions, prepared_file_batches(SAMPLE, workers=workers), now=datetime.now(UTC), copies=plan
    )
    print(f"  sample: {sample.inserted:,} new, {sample.updated:,} updated", flush=True)
    await engine.dispose()
    return timings


async def _timed(samples: list[float], call: Any, cpu: list[float] | None = None) -> Any:
    started, cpu_started = time.perf_counter(), time.process_time()
    result = await call
    samples.append(time.perf_counter() - started)
    if cpu is not None:  # this process's CPU time: the whole search on SQLite, not on PostgreSQL
        cpu.append(time.process_time() - cpu_started)
    return result


async def measure(url: str, reps: int, baseline_reps: int, every: int = 1) -> dict[str, Any]:
    """p50/p95 of the search and of the baseline on the first round's mix and on the
    Japanese query set, and both one's recall on the Japanese set (the baseline on every
    ``every``-th query of the set only: at 1,000,000 titles each of its 1-2 character
    queries scans the table, seconds a time)."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with sessions() as db:
        isbns = list(
            (
                await db.execute(
                    select(Record.isbn).where(Record.isbn.is_not(None)).order_by(Record.id).limit(4)
                )
            ).scalars()
        )
        titles = (await db.execute(select(func.count()).select_from(Record))).scalar_one()
        ids = dict((await db.execute(select(Record.control_number, Record.id))).all())
    mix = QUERIES + [f"{i[:3]}-{i[3]}-{i[4:8]}-{i[8:12]}-{i[12]}" for i in isbns if i]
    japanese = [q for q in JAPANESE["queries"] if q["record"] in ids]
    sampled = {q["query"] for q in japanese[::every]}
    times: dict[str, list[float]] = defaultdict(list)
    found: dict[str, list[bool]] = defaultdict(list)
    for group, queries, n in (("mix", mix, reps), ("japanese", [q["query"] for q in japanese], 3)):
        for q in queries:
            await run_search(sessions, SearchRequest(query=q), 20, None)  # warm the cache
            for _ in range(n):
                await _timed(
                    times[f"search {group}"],
                    run_search(sessions, SearchRequest(query=q), 20, None),
                    times[f"search {group} cpu"],
                )
            for _ in range(baseline_reps if group == "mix" or q in sampled else 0):
                await _timed(times[f"baseline {group}"], baseline.search(engine, q))
    for item in japanese:
        page = await run_search(sessions, SearchRequest(query=item["query"]), 20, None)
        target = ids[item["record"]]
        found[f"search {item['kind']}"].append(target in page.matches)
        if baseline_reps and item["query"] in sampled:
            hit = target in await baseline.every_id(engine, item["query"])
            found[f"baseline {item['kind']}"].append(hit)
    sizes = await _index_sizes(engine)
    await engine.dispose()
    result: dict[str, Any] = {"titles": titles, "index_bytes": sizes}
    for name, samples in times.items():
        samples.sort()
        result[f"{name} p50_ms"] = _pct(samples, 50) * 1000
        result[f"{name} p95_ms"] = _pct(samples, 95) * 1000
    for name, hits in found.items():
        result[f"{name} recall"] = f"{sum(hits)}/{len(hits)}"
    return result


async def _index_sizes(engine: Any) -> dict[str, int]:
    """Bytes on disk of Hondana's index (postings and per-title text) and the baseline's."""
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            query = (
                "SELECT pg_total_relation_size('search_postings')"
                " + pg_total_relation_size('record_search')"
            )
        else:
            query = (
                "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master"
                " WHERE tbl_name IN ('search_postings', 'record_search'))"
            )
        hondana = int((await conn.execute(text(query))).scalar_one() or 0)
    return {"hondana": hondana, "baseline": await baseline.index_bytes(engine)}


def _pct(values: list[float], pct: int) -> float:
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


async def _build_baseline(url: str) -> None:
    engine = create_engine(url)
    started = time.perf_counter()
    await baseline.build(engine)
    print(f"  baseline built in {time.perf_counter() - started:.1f} s", flush=True)
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/hondana_bench_search",
    )
    parser.add_argument("--rounds", type=int, default=4, help="times the file is loaded")
    parser.add_argument("--reps", type=int, default=20, help="timed runs of each search")
    parser.add_argument(
        "--baseline-reps", type=int, default=2, help="timed runs of each baseline search"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-load", action="store_true", help="measure an existing database")
    parser.add_argument(
        "--keep-baseline", action="store_true", help="with --skip-load: do not rebuild the baseline"
    )
    parser.add_argument(
        "--baseline-every",
        type=int,
        default=1,
        help="time the baseline and its recall on every N-th query of the Japanese set only",
    )
    args = parser.parse_args()
    path = lc_file() if args.rounds and not args.skip_load else SAMPLE
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}, {make_url(args.database_url).get_backend_name()}"
    )
    timings: list[dict[str, float]] = []
    if not args.skip_load:
        _fresh_database(args.database_url)
        upgrade(args.database_url)
        timings = asyncio.run(load(args.database_url, path, args.rounds, args.workers))
    if args.baseline_reps and not (args.skip_load and args.keep_baseline):
        asyncio.run(_build_baseline(args.database_url))
    load_before = os.getloadavg()
    result = asyncio.run(
        measure(args.database_url, args.reps, args.baseline_reps, args.baseline_every)
    )
    result["load_average"] = {"before": load_before, "after": os.getloadavg()}
    result["baseline_every"] = args.baseline_every
    result["import"] = timings
    if timings:
        records = sum(t["records"] for t in timings)
        result["import_per_second"] = records / sum(t["seconds"] for t in timings)
    print(json.dumps({k: v for k, v in result.items() if k != "per_query"}, indent=2))
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / f"search-{make_url(args.database_url).get_backend_name()}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
