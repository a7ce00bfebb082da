"""Private PostgreSQL and Redis (and other subprocesses) for bench/drills.py: the drills kill
and restart these, never the shared servers other work depends on."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from load import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(argv: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
    """Run a PostgreSQL tool as the ``postgres`` user when we are root (initdb refuses root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *argv], check=True, capture_output=True, **kw)  # type: ignore[call-overload, no-any-return]


class PrivatePostgres:
    """A throwaway PostgreSQL 15 cluster in a temporary directory, on a free port."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pg"
        self.dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(workdir, "postgres")
            shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.log = workdir / "pg.log"
        self.log.touch()
        if os.geteuid() == 0:
            shutil.chown(self.log, "postgres")
        as_postgres([str(PG_BIN / "initdb"), "-D", str(self.dir), "-U", "postgres",
                     "--auth=trust", "-E", "UTF8", "--no-instructions"])  # fmt: skip

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-o", opts, "-l",
                     str(self.log), "-w", *args])  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.ctl("stop", "-m", "immediate")


class Process:
    """A subprocess we own: started, signalled and always ended by its own PID."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:  # fmt: skip
        self.argv, self.log, self.env, self.cwd = argv, log, env, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                         env=self.env, cwd=self.cwd)  # fmt: skip

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a stopped process cannot act on TERM
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Until something accepts connections on the loopback ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")
