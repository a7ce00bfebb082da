"""The dispatcher nudge, bounded: a broker that is down or hangs never holds a request.

A nudge is a blocking call (Celery's ``send_task`` on the broker). It runs on one thread of
its own, never on the event loop's shared executor, so a broker that accepts connections and
never answers (a stopped Redis, a half-open connection) can take at most that one thread.
Nudges coalesce: while one is queued and not yet started, later callers share it, since the
dispatcher run it wakes sends every mail committed before it starts. A caller waits at most
``wait`` seconds for the send and then returns; the send finishes (or times out on the
broker's own socket timeout) in the background. The outbox row is already committed, so a
nudge that never arrives only delays the mail until the next beat (MAIL-8).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger("hondana.mail")
# Long enough for a broker on the same network to accept a task (a few ms), short enough
# that a broker that does not answer costs a request little.
NUDGE_WAIT = 0.25


class Nudger:
    """Runs ``send`` on its own thread, one at a time, at most one more queued behind it."""

    def __init__(self, send: Callable[[], None], *, wait: float = NUDGE_WAIT) -> None:
        self.send = send
        self.wait = wait
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nudge")
        self._lock = threading.Lock()
        self._queued: Future[bool] | None = None

    def _run(self) -> bool:
        try:
            self.send()
        except Exception as exc:  # a broker that is down: the beat sends the mail later
            log.warning("could not nudge the dispatcher: %s: %s", type(exc).__name__, exc)
            return False
        return True

    def _submit(self) -> Future[bool]:
        with self._lock:
            queued = self._queued
            # A send that has not started yet will run after the caller's commit: share it.
            # One that is running may have reached the broker before that commit: queue anew.
            if queued is not None and not queued.running() and not queued.done():
                return queued
            self._queued = self._pool.submit(self._run)
            return self._queued

    async def __call__(self) -> bool:
        """Nudge; ``True`` when the broker took it within ``wait``. Never raises."""
        future = self._submit()
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.wait)
        except TimeoutError:
            log.warning(
                "dispatcher nudge pending after %.2f s; the beat is the backstop", self.wait
            )
            return False

    def close(self, *, wait: bool = False) -> None:
        """Drop queued sends; a running one ends on its own (the broker's socket timeout)
        unless ``wait``."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
