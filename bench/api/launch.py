"""One server of the API benchmark under uvicorn, as ``hondana serve`` runs it, plus a SQL
statement counter.

    python bench/api/launch.py api PORT     # server.app:create_app (HONDANA_* settings)
    python bench/api/launch.py plain PORT   # bench/api/plain.py
    python bench/api/launch.py raw PORT     # bench/api/raw.py (asyncpg/aiosqlite, no ORM)

Both sides get the same wrapper: every statement SQLAlchemy sends is counted (one listener
on all engines), and ``GET /_bench/sql`` answers the count, so ``run.py`` can read how many
statements one request took on each side. The listener and the path check cost
microseconds per request, the same on both sides. Everything else is ``hondana serve``:
one worker process, JSON logs at ``HONDANA_LOG_LEVEL`` (the access log included), proxy
headers, uvicorn's default loop and HTTP parser.

``Server`` and ``RssSampler`` (below) are the load generator's handle on such a process:
start it on a free port, wait for ``/healthz``, sample its RSS, stop it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from load import ApiServer, free_port  # noqa: E402  (bench/load.py)
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

COUNTER_PATH = "/_bench/sql"
_statements = 0


def _count(*_: Any) -> None:
    global _statements
    _statements += 1


class Counted:
    """The app, with ``GET /_bench/sql`` answering the statements sent so far."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == COUNTER_PATH:
            body = json.dumps({"statements": _statements}).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def api() -> Counted:
    """The real app (``hondana serve``'s factory). ``BENCH_HASH_NICENESS`` overrides the
    hashing threads' niceness (resolvers/shared/passwords.py), for a before/after of the storm."""
    from resolvers.shared import passwords
    from server.app import create_app

    if (niceness := os.environ.get("BENCH_HASH_NICENESS")) is not None:
        passwords.HASH_NICENESS = int(niceness)

    return Counted(create_app())


def plain() -> Counted:
    """The plain Starlette baseline."""
    sys.path.insert(0, str(ROOT / "bench" / "api"))
    from plain import create_app

    return Counted(create_app())


def raw() -> Counted:
    """The raw baseline (asyncpg or aiosqlite). It sends no statement through SQLAlchemy;
    with ``BENCH_RAW_COUNT=1`` its pool's connections report theirs to the same counter (a
    callback per statement: a counting run, not a timed one)."""
    sys.path.insert(0, str(ROOT / "bench" / "api"))
    from raw import create_app

    return Counted(create_app(on_statement=_count if os.environ.get("BENCH_RAW_COUNT") else None))


SIDES = {"api": api, "plain": plain, "raw": raw}


def main() -> None:
    """Serve ``api`` or ``plain`` on 127.0.0.1:PORT until terminated."""
    import uvicorn

    from server import logging as hondana_logging
    from server.settings import get_settings

    side, port = sys.argv[1], int(sys.argv[2])
    if side not in SIDES:
        raise SystemExit("usage: launch.py api|plain|raw PORT")
    event.listen(Engine, "before_cursor_execute", _count)  # every engine of this process
    hondana_logging.configure(get_settings().log_level)  # as server/cli.py cmd_serve
    # The app object itself, not an import string: importing this file a second time
    # would register a second counter.
    uvicorn.run(
        SIDES[side](),
        host="127.0.0.1",
        port=port,
        workers=1,
        proxy_headers=True,
        log_config=None,
    )


# --- the load generator's side: start, sample and stop a server process ---------------


class Server(ApiServer):
    """One side (``api`` or ``plain``) as its own process, its log in a file: the load
    run's ``ApiServer`` with this file as the command and its RSS sampled."""

    def __init__(self, side: str, database_url: str, env: dict[str, str]) -> None:
        super().__init__(
            database_url,
            free_port(),
            Path(tempfile.gettempdir()) / f"hondana-bench-{side}-{os.getpid()}.log",
            # The access log at INFO, as `hondana serve` runs by default: part of the cost.
            HONDANA_LOG_LEVEL=os.environ.get("HONDANA_LOG_LEVEL", "INFO"),
            # No maintenance window (SVC-1: 03:50-04:20 Tokyo answers 503): a run at any hour.
            HONDANA_POLICY__MAINTENANCE_START="00:00",
            HONDANA_POLICY__MAINTENANCE_END="00:00",
            **env,
        )
        self.side = side
        self.label = side
        self.peak_rss = 0

    def command(self) -> list[str]:
        return [sys.executable, __file__, self.side, str(self.port)]

    def start(self, timeout: float = 60.0) -> None:
        super().start(timeout)

    def process(self) -> psutil.Process:
        """The server process (its CPU time is read around each timed stretch)."""
        assert self.proc is not None
        return psutil.Process(self.proc.pid)

    def rss(self) -> int:
        """Resident bytes of the process and its children, 0 once it is gone."""
        if self.proc is None or self.proc.poll() is not None:
            return 0
        try:
            top = psutil.Process(self.proc.pid)
            return sum(p.memory_info().rss for p in [top, *top.children(recursive=True)])
        except psutil.Error:
            return 0


class RssSampler(threading.Thread):
    """Samples every server's RSS every 0.2 s and keeps each one's peak."""

    def __init__(self, servers: list[Server]) -> None:
        super().__init__(daemon=True)
        self.servers = servers
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            for server in list(self.servers):
                server.peak_rss = max(server.peak_rss, server.rss())


if __name__ == "__main__":
    main()
