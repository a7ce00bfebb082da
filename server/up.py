"""``hondana up``: the API and a Celery worker with beat, together, as ``make demo`` runs them.

Each is a process of its own, started the way a user starts it (``hondana serve``,
``hondana worker --beat``), writing to this terminal. When either stops by itself the other
is stopped too and ``hondana up`` exits non-zero, so a worker that dies at start (no mail
would ever go out) is seen at once instead of an API serving on without it. Ctrl-C or
SIGTERM stops both and exits 0.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

# The interpreter running us has the project installed, whatever PATH says.
HONDANA = [sys.executable, "-m", "server.cli"]
COMMANDS = {"worker": ["worker", "--beat"], "api": ["serve"]}
GRACE_SECONDS = 15.0
POLL_SECONDS = 0.2


class _Stop(Exception):
    """SIGINT or SIGTERM reached us: the operator stops both processes."""


def _raise_stop(signum: int, _: FrameType | None) -> None:
    raise _Stop(signum)


def _stop_all(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every process still running, then SIGKILL to any that outlives the grace."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the stopping short
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _first_to_stop(procs: dict[str, subprocess.Popen[bytes]]) -> tuple[str, int]:
    """Wait until one process exits; its name and exit status."""
    while True:
        for name, proc in procs.items():
            status = proc.poll()
            if status is not None:
                return name, status
        time.sleep(POLL_SECONDS)


def run() -> int:
    """Start both, watch both; the exit status of ``hondana up``."""
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        try:
            for name, command in COMMANDS.items():
                procs[name] = subprocess.Popen([*HONDANA, *command])  # noqa: S603 - our CLI
            name, status = _first_to_stop(procs)
        except _Stop:
            _stop_all(procs)
            return 0
        print(
            f"hondana up: the {name} stopped (exit status {status}); stopping the rest. "
            "Its own messages are above.",
            file=sys.stderr,
            flush=True,
        )
        _stop_all(procs)
        return status or 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
