"""Search benchmark (issue [5/8]): the bigram index next to ``ILIKE '%q%'`` scans.

Loads LC's "Books All 2016, part 1" (250,000 records, fetched from the pymarc 5.4.0 source
distribution on first use, checked by sha256) ``--rounds`` times with distinct control
numbers, timing the import; then runs a fixed query mix through the real search
(``resolvers.catalogue.search.run_search``: index, counts, first page of titles) and the same words as
plain ``ILIKE`` scans over the same columns (a count and the first page, as the search
returns), in the same run, and prints p50/p95 of both. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
SCANNED = (
    Record.title,
    Record.title_reading,
    Record.responsibility,
    Record.responsibility_reading,
    Record.publisher,
    Record.publisher_reading,
    Record.series,
    Record.subjects,
)


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
    await engine.dispose()
    return timings


async def measure(url: str, reps: int, scan_reps: int) -> dict[str, object]:
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
    queries = QUERIES + [f"{i[:3]}-{i[3]}-{i[4:8]}-{i[8:12]}-{i[12]}" for i in isbns if i]
    search_times: dict[str, list[float]] = {}
    scan_times: dict[str, list[float]] = {}
    totals: dict[str, tuple[int, int]] = {}
    for q in queries:
        await run_search(sessions, SearchRequest(query=q), 20, None)  # warm the cache
        samples = []
        for _ in range(reps):
            started = time.perf_counter()
            page = await run_search(sessions, SearchRequest(query=q), 20, None)
            samples.append(time.perf_counter() - started)
        search_times[q] = samples
        scans = []
        scanned = 0
        for _ in range(scan_reps):
            started = time.perf_counter()
            scanned = await _scan(sessions, q)
            scans.append(time.perf_counter() - started)
        scan_times[q] = scans
        totals[q] = (page.total, scanned)
        print(
            f"  {q!r:24} search {statistics.median(samples) * 1000:8.2f} ms "
            f"({page.total:>7,} titles)   ILIKE scan {statistics.median(scans) * 1000:9.1f} ms "
            f"({scanned:>7,} titles)",
            flush=True,
        )
    await engine.dispose()
    every_search = sorted(t for ts in search_times.values() for t in ts)
    every_scan = sorted(t for ts in scan_times.values() for t in ts)
    result = {
        "titles": titles,
        "search_p50_ms": _pct(every_search, 50) * 1000,
        "search_p95_ms": _pct(every_search, 95) * 1000,
        "scan_p50_ms": _pct(every_scan, 50) * 1000,
        "scan_p95_ms": _pct(every_scan, 95) * 1000,
        "per_query": {
            q: {
                "search_ms": statistics.median(search_times[q]) * 1000,
                "scan_ms": statistics.median(scan_times[q]) * 1000,
                "search_total": totals[q][0],
                "scan_total": totals[q][1],
            }
            for q in queries
        },
    }
    result["p50_speedup"] = result["scan_p50_ms"] / result["search_p50_ms"]  # type: ignore[operator]
    result["p95_speedup"] = result["scan_p95_ms"] / result["search_p95_ms"]  # type: ignore[operator]
    return result


async def _scan(sessions: object, q: str) -> int:
    """The baseline: every word as ``ILIKE '%word%'`` over the searched columns; a count
    and the first page of 20, as the search returns."""
    conds = [or_(*(col.ilike(f"%{word}%") for col in SCANNED)) for word in q.split()]
    async with sessions() as db:  # type: ignore[operator]
        total = (
            await db.execute(select(func.count()).select_from(Record).where(and_(*conds)))
        ).scalar_one()
        await db.execute(select(Record).where(and_(*conds)).order_by(Record.id.desc()).limit(20))
    return int(total)


def _pct(values: list[float], pct: int) -> float:
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/hondana_bench_search",
    )
    parser.add_argument("--rounds", type=int, default=4, help="times the file is loaded")
    parser.add_argument("--reps", type=int, default=20, help="timed runs of each search")
    parser.add_argument("--scan-reps", type=int, default=2, help="timed runs of each scan")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-load", action="store_true", help="measure an existing database")
    args = parser.parse_args()
    path = lc_file()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}, {make_url(args.database_url).get_backend_name()}"
    )
    timings: list[dict[str, float]] = []
    if not args.skip_load:
        _fresh_database(args.database_url)
        upgrade(args.database_url)
        timings = asyncio.run(load(args.database_url, path, args.rounds, args.workers))
    result = asyncio.run(measure(args.database_url, args.reps, args.scan_reps))
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
