"""The ``hondana`` command: ``serve``, ``worker``, ``up``, ``migrate``, ``import-marc``, ``reindex``,
``demo``, ``export-schema``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from server.settings import Settings, get_settings

# Each command imports what it needs when it runs: `hondana worker` and `hondana up` only
# start other processes, and the decoding processes of `demo` and `import-marc` are spawned
# and import this module again, so imports here cost every one of them (the app and its
# schema took a third of a `hondana demo`'s CPU, in its two decoding processes and itself).
if TYPE_CHECKING:
    from resolvers.catalogue.marc import RecordData
    from server.catalogue_import import CopyPlan


class Progress:
    """A progress bar on stderr: records, rate, and how far through the file (when the
    file's size is known); one final line when stderr is not a terminal."""

    def __init__(self, label: str, total_bytes: int | None = None) -> None:
        self.label = label
        self.done = 0
        self.total = total_bytes
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, n: int, position: int = 0) -> None:
        self.done += n
        if not self.tty:
            return
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        line = f"{self.label}: {self.done:,} ({rate:,.0f}/s)"
        if self.total and position:
            share = min(position / self.total, 1.0)
            bar = "#" * int(share * 30)
            line = f"[{bar:<30}] {share:4.0%} " + line
        print(f"\r{line}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        seconds = time.monotonic() - self.started
        print(f"\r{self.label}: {self.done:,} done in {seconds:,.1f} s", file=sys.stderr)


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from models.migrate import upgrade

    upgrade(settings.database_url)
    print("database is at the latest migration", file=sys.stderr)
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from server import logging as hondana_logging

    hondana_logging.configure(settings.log_level)
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        # X-Forwarded-For is read only from HONDANA_TRUSTED_PROXIES (server/middleware.py);
        # uvicorn's own handling would trust 127.0.0.1 by default.
        proxy_headers=False,
        log_config=None,
    )
    return 0


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def worker_metrics_dir(settings: Settings) -> str | None:
    """With worker metrics on, a fresh directory for prefork children to count into
    (workers/metrics.py serves their sum); under ``$PROMETHEUS_MULTIPROC_DIR`` when it is
    set, so the operator picks the place (a tmpfs), but never reused: files left by an
    earlier run would add that run's counts to this one's."""
    if settings.worker_metrics_port is None:
        return None
    return tempfile.mkdtemp(prefix="hondana-worker-metrics-", dir=os.environ.get(MULTIPROC_ENV))


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    # The interpreter running us has Celery installed, whatever PATH says.
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", "worker"]
    argv += ["--loglevel", settings.log_level.lower()]
    if args.beat:
        argv.append("--beat")
    extra = list(args.celery_args)
    argv += extra[1:] if extra[:1] == ["--"] else extra
    if metrics_dir := worker_metrics_dir(settings):
        # Read by prometheus_client when Celery imports it, so set before the exec.
        os.environ[MULTIPROC_ENV] = metrics_dir
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the Celery worker


def _copy_plan(spec: str | None, codes: dict[str, int]) -> CopyPlan | None:
    """``--copies central=2,kita=1``: that many copies of each new title at each library."""
    if not spec:
        return None
    wanted: list[tuple[int, int]] = []
    for part in spec.split(","):
        code, _, number = part.partition("=")
        if code.strip() not in codes or not number.strip().isdigit():
            raise SystemExit(f"--copies: expected LIBRARY_CODE=N, got {part!r}")
        wanted.append((codes[code.strip()], int(number)))

    def plan(data: RecordData) -> list[dict[str, object]]:
        if data.material_type == "ebook":
            return []  # e-books have licences, not copies (EBOOK-4)
        return [{"library_id": lib} for lib, n in wanted for _ in range(n)]

    return plan


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from models import Library
    from models.db import create_engine, create_session_factory
    from server.catalogue_import import import_records, prepared_file_batches

    size = os.path.getsize(args.file)

    async def run() -> int:
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        progress = Progress("records", size)
        try:
            async with sessions() as db:
                codes = {
                    c: i for c, i in (await db.execute(select(Library.code, Library.id))).all()
                }
            report = await import_records(
                sessions,
                prepared_file_batches(args.file, workers=args.workers),
                now=datetime.now(UTC),
                progress=progress,
                copies=_copy_plan(args.copies, codes),
            )
        finally:
            progress.close()
            await engine.dispose()
        print(
            f"inserted {report.inserted}, updated {report.updated}, skipped {len(report.skipped)}"
        )
        for skip in report.skipped:
            print(f"  skipped #{skip.position} ({skip.control_number or '-'}): {skip.reason}")
        return 0

    return asyncio.run(run())


def cmd_reindex(settings: Settings, args: argparse.Namespace) -> int:
    from models.db import create_engine, create_session_factory
    from resolvers.catalogue import search_index

    async def run() -> None:
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        try:
            if args.compact:
                merged = await search_index.compact(sessions)
                print(f"search index: merged {merged} rows", file=sys.stderr)
            else:
                async with sessions() as db, db.begin():
                    titles = await search_index.rebuild(db)
                print(f"search index: rebuilt for {titles} titles", file=sys.stderr)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return 0


SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"
ERRORS_FILE = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def cmd_export_schema(_: Settings, args: argparse.Namespace) -> int:
    from schema.root import schema
    from schema.shared.error_table import error_table

    target = Path(args.output) if args.output else SCHEMA_FILE
    target.write_text(schema.as_str() + "\n", encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    if not args.output:
        ERRORS_FILE.parent.mkdir(exist_ok=True)
        ERRORS_FILE.write_text(error_table(), encoding="utf-8")
        print(f"wrote {ERRORS_FILE}", file=sys.stderr)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from models.db import create_engine, create_session_factory
    from models.migrate import upgrade
    from server.app import make_hasher
    from server.demo import DEMO_PATRONS, DEMO_STAFF, load_demo

    upgrade(settings.database_url)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        progress = Progress("demo records")
        try:
            report = await load_demo(
                create_session_factory(engine),
                make_hasher(settings),
                now=settings.dev_now,  # loaded as of HONDANA_DEV_NOW, if set
                marc_path=Path(args.marc) if args.marc else None,
                limit=args.limit,
                progress=progress,
            )
        finally:
            progress.close()
            await engine.dispose()
        print(
            f"catalogue: {report.inserted} new, {report.updated} updated, "
            f"{len(report.skipped)} skipped"
        )

    asyncio.run(run())
    print("demo patrons (card number / password):")
    for p in DEMO_PATRONS:
        print(f"  {p.card_number} / {p.password or '(none)'}  {p.note}")
    for username, password, _, roles in DEMO_STAFF:
        print(f"  staff {username} / {password}  {','.join(sorted(roles))}")
    return 0


def cmd_up(_: Settings, __: argparse.Namespace) -> int:
    from server import up

    return up.run()


def cmd_clients(_: Settings, args: argparse.Namespace) -> int:
    from server.trusted import MANIFEST, manifest_text

    target = Path(args.output) if args.output else MANIFEST
    target.write_text(manifest_text(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hondana`` console script."""
    parser = argparse.ArgumentParser(prog="hondana", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API under uvicorn")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    worker = sub.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--beat", action="store_true", help="also run the beat scheduler")
    worker.add_argument(
        "celery_args",
        nargs=argparse.REMAINDER,
        help="after --, passed on to `celery worker` (e.g. -- --concurrency 4 -Q mail)",
    )
    sub.add_parser(
        "up",
        help="run the API and a worker with beat together; exit non-zero when either stops",
    )
    sub.add_parser("migrate", help="bring the database to the latest migration")
    imp = sub.add_parser("import-marc", help="import MARC21 (binary or MARCXML)")
    imp.add_argument("file")
    imp.add_argument("--copies", help="copies of each new title per library, as CODE=N[,CODE=N...]")
    imp.add_argument(
        "--workers", type=int, help="processes decoding records (default: one per CPU)"
    )
    reindex = sub.add_parser("reindex", help="rebuild the search index from the catalogue")
    reindex.add_argument(
        "--compact", action="store_true", help="only merge the index rows bulk imports leave"
    )
    demo = sub.add_parser("demo", help="migrate and load the demo library")
    demo.add_argument(
        "--marc", help="MARC file to load (default: the catalogue shipped in server/data)"
    )
    demo.add_argument("--limit", type=int, help="load only the first N records")
    export = sub.add_parser(
        "export-schema", help="write schema/schema.graphql and docs/errors.md from the code"
    )
    export.add_argument("--output", help="another path to write the schema to")
    clients = sub.add_parser("clients", help="front-end operations")
    clients_sub = clients.add_subparsers(dest="clients_command", required=True)
    manifest = clients_sub.add_parser(
        "manifest", help="write clients/manifest.json (trusted document ids)"
    )
    manifest.add_argument("--output", help="another path to write to")
    args = parser.parse_args(argv)
    settings = get_settings()
    handlers = {
        "serve": cmd_serve,
        "worker": cmd_worker,
        "migrate": cmd_migrate,
        "import-marc": cmd_import,
        "reindex": cmd_reindex,
        "demo": cmd_demo,
        "up": cmd_up,
        "export-schema": cmd_export_schema,
        "clients": cmd_clients,
    }
    return handlers[args.command](settings, args)


if __name__ == "__main__":
    raise SystemExit(main())
